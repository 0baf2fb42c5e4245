// Package stacks turns one stack's config into a typed, validated Spec: the tier defaults for
// dev, staging or prod, overlaid with what the stack's Pulumi.<stack>.yaml sets. Every problem is
// reported at once, each naming the config key, before the program registers any resource.
package stacks

import "github.com/scalemate/infra/internal/netplan"

// Tier is an environment class; it picks the defaults and the rules a stack must meet.
type Tier string

const (
	Dev     Tier = "dev"
	Staging Tier = "staging"
	Prod    Tier = "prod"
	// Local is a developer's cluster (kind, k3d, minikube, Docker Desktop or the test API
	// server): the same workloads and Kubernetes baseline, no AWS account and no AWS resource.
	Local Tier = "local"
)

// Tiers lists the cloud tiers in promotion order.
var Tiers = []Tier{Dev, Staging, Prod}

// AllTiers are the cloud tiers and local.
var AllTiers = []Tier{Local, Dev, Staging, Prod}

// Config keys the program reads. Structured keys hold YAML objects in Pulumi.<stack>.yaml.
const (
	KeyRegion           = "aws:region"
	KeyTier             = "scalemate:tier"
	KeyOwner            = "scalemate:owner"
	KeyLogRetentionDays = "scalemate:logRetentionDays"
	KeyNetwork          = "scalemate:network"
	KeyCluster          = "scalemate:cluster"
	KeyNodePools        = "scalemate:nodePools"
	KeyPostgres         = "scalemate:postgres"
	KeyRedis            = "scalemate:redis"
	KeyBackup           = "scalemate:backup"
	KeyEdge             = "scalemate:edge"
	KeyMonitoring       = "scalemate:monitoring"
	KeyApp              = "scalemate:app"
	KeyCI               = "scalemate:ci"
	KeyLocal            = "scalemate:local"
	// KeyOnCallWebhook is the on-call tool's HTTPS endpoint (a secret: it embeds a key).
	KeyOnCallWebhook = "scalemate:onCallWebhookUrl"
	// KeyPermissionsBoundary is the IAM policy every role of the stack carries as its
	// permissions boundary (the bootstrap program's scalemate-<stack>-boundary by default).
	KeyPermissionsBoundary = "scalemate:permissionsBoundary"
)

// Keys lists every config key the program reads.
var Keys = []string{KeyRegion, KeyTier, KeyOwner, KeyLogRetentionDays, KeyNetwork, KeyCluster, KeyNodePools, KeyPostgres, KeyRedis,
	KeyBackup, KeyEdge, KeyMonitoring, KeyApp, KeyCI, KeyLocal, KeyOnCallWebhook, KeyPermissionsBoundary}

// LocalKeys are the keys the local tier reads; it refuses the others (they configure AWS).
var LocalKeys = []string{KeyTier, KeyOwner, KeyApp, KeyLocal}

// Spec is the complete, validated settings of one environment.
type Spec struct {
	// Project is the Pulumi project name; it prefixes physical names (scalemate-dev-...).
	Project string
	// Stack is the Pulumi stack name.
	Stack string
	// Tier is the environment class (scalemate:tier; default: the stack name).
	Tier Tier
	// Region is the main AWS region (aws:region; required).
	Region string
	// Owner is the team tagged as Owner on every resource (scalemate:owner; default platform-team).
	Owner string
	// LogRetentionDays applies to every CloudWatch log group (scalemate:logRetentionDays;
	// default 7 dev, 30 staging, 365 prod).
	LogRetentionDays int
	// Network is scalemate:network.
	Network Network
	// Cluster is scalemate:cluster.
	Cluster Cluster
	// NodePools is scalemate:nodePools: node pools by name.
	NodePools map[string]NodePool
	// Postgres is scalemate:postgres.
	Postgres Postgres
	// Redis is scalemate:redis.
	Redis Redis
	// Backup is scalemate:backup.
	Backup Backup
	// Edge is scalemate:edge.
	Edge Edge
	// Monitoring is scalemate:monitoring.
	Monitoring Monitoring
	// PermissionsBoundary is scalemate:permissionsBoundary: the name (in the stack's account) or
	// ARN of the IAM policy set as permissions boundary on every role the stack creates. The
	// deploy roles may only create roles that carry it. Default <project>-<tier>-boundary (the
	// bootstrap's, for the environment of the stack's tier).
	PermissionsBoundary string
	// OnCallWebhookURL is scalemate:onCallWebhookUrl (set it with --secret); critical alarms
	// go there. Default none.
	OnCallWebhookURL string
	// App is scalemate:app.
	App App
	// CI is scalemate:ci.
	CI CI
	// Local is scalemate:local (the local tier only).
	Local LocalCluster
}

// LocalCluster is the cluster of the local tier (scalemate:local): whatever the kubeconfig reaches.
type LocalCluster struct {
	// Context is the kubeconfig context deployed to: a local cluster's (kind-*, k3d-*, minikube,
	// docker-desktop, rancher-desktop, orbstack, colima*, scalemate-local). Required.
	Context string `json:"context,omitempty"`
	// Registry is where the application's images are pulled from, as <registry>/<image>:<version>
	// (kind's local registry is localhost:5001; an image loaded with `kind load` needs no
	// registry: use the default). Default scalemate.
	Registry string `json:"registry,omitempty"`
	// StorageClass holds the data stores' volumes. Default the cluster's default StorageClass.
	StorageClass string `json:"storageClass,omitempty"`
	// VolumeSize is each data store's volume. Default 1Gi.
	VolumeSize string `json:"volumeSize,omitempty"`
	// KubernetesVersion is the cluster's minor version, which Pod Security enforcement is pinned
	// to (as in the cloud). Default 1.35.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
}

// Network is the VPC layout (scalemate:network).
type Network struct {
	// CIDR is the VPC's IPv4 block, private (RFC 1918), /16 to /24. Default 10.0.0.0/16.
	CIDR string `json:"cidr"`
	// AZCount is how many AZs the VPC spans, 2 to 4 and at most what the region has.
	// Default 2 dev, 3 staging and prod.
	AZCount int `json:"azCount"`
	// AvailabilityZones names the AZs explicitly (AZ letters differ per account); default the
	// region's first AZCount zones.
	AvailabilityZones []string `json:"availabilityZones,omitempty"`
	// NATGateways is none, single or perAz. Default single (dev, staging), perAz (prod).
	NATGateways string `json:"natGateways"`
	// SubnetPrefixes sizes one subnet of each tier. Default public /22, private /19, isolated /24
	// in a /16, each one bit smaller per bit the VPC is smaller (a /20 gets /26, /23, /28); a
	// VPC smaller than /20 needs them set.
	SubnetPrefixes netplan.Prefixes `json:"subnetPrefixes"`
	// prefixesSet records that the stack set SubnetPrefixes (otherwise they follow the VPC).
	prefixesSet bool
	// InterfaceEndpoints are VPC interface endpoints by short service name (ecr.api, sts, ...).
	// Default none; NATGateways none requires ecr.api, ecr.dkr and sts.
	InterfaceEndpoints []string `json:"interfaceEndpoints,omitempty"`
	// FlowLogAggregationSeconds is 60 or 600. Default 600 (dev, staging), 60 (prod).
	FlowLogAggregationSeconds int `json:"flowLogAggregationSeconds"`
	// ClientVPN adds an AWS Client VPN endpoint into the VPC (operators who want a VPN beside
	// Session Manager). Default none.
	ClientVPN *ClientVPN `json:"clientVpn,omitempty"`
}

// ClientVPN is the optional Client VPN endpoint (scalemate:network.clientVpn); the clientvpn
// component checks it.
type ClientVPN struct {
	// ServerCertificateARN is the endpoint's ACM certificate in the stack's region. Required.
	ServerCertificateARN string `json:"serverCertificateArn"`
	// ClientRootCertificateARN (mutual TLS) and/or SAMLProviderARN (federated) authenticate
	// clients; SelfServiceSAMLProviderARN adds the self-service portal.
	ClientRootCertificateARN   string `json:"clientRootCertificateArn,omitempty"`
	SAMLProviderARN            string `json:"samlProviderArn,omitempty"`
	SelfServiceSAMLProviderARN string `json:"selfServiceSamlProviderArn,omitempty"`
	// AccessGroupID admits one IdP group only (SAML). Default every authenticated client.
	AccessGroupID string `json:"accessGroupId,omitempty"`
	// ClientCIDR is the clients' range, /12 to /22 outside the VPC. Default 172.16.0.0/22.
	ClientCIDR string `json:"clientCidr,omitempty"`
	// SessionTimeoutHours is 8, 10, 12 or 24. Default 8.
	SessionTimeoutHours int `json:"sessionTimeoutHours,omitempty"`
	// AZCount is how many AZs carry the endpoint (0.10 USD an hour each). Default 2.
	AZCount int `json:"azCount,omitempty"`
}

// Cluster is the EKS control plane (scalemate:cluster).
type Cluster struct {
	// Version is the Kubernetes minor version. Default 1.35 (1.34 leaves standard support on
	// 2026-12-02, and a STANDARD cluster is then upgraded by AWS itself).
	Version string `json:"version"`
	// SupportType is STANDARD (upgraded at end of standard support) or EXTENDED (paid). Default STANDARD.
	SupportType string `json:"supportType"`
	// PublicAccessCIDRs may reach the public API endpoint; empty turns the public endpoint off.
	// 0.0.0.0/0 is refused. Default none.
	PublicAccessCIDRs []string `json:"publicAccessCidrs,omitempty"`
	// AdminRoleARNs get cluster-admin through EKS access entries. Default none (the deploying
	// identity is admin as cluster creator).
	AdminRoleARNs []string `json:"adminRoleArns,omitempty"`
	// ViewRoleARNs get read-only access (AmazonEKSViewPolicy) through EKS access entries, for
	// on-call engineers. Default none.
	ViewRoleARNs []string `json:"viewRoleArns,omitempty"`
	// LogTypes are the control-plane log types; api, audit and authenticator are required.
	// Default those three (dev, staging), all five (prod).
	LogTypes []string `json:"logTypes"`
	// ServiceCIDR is the Kubernetes service range; must not overlap the VPC. Default 172.20.0.0/16.
	ServiceCIDR string `json:"serviceCidr"`
	// AddonVersions pins every managed addon (vpc-cni, kube-proxy, coredns, aws-ebs-csi-driver,
	// amazon-cloudwatch-observability) to an exact build, so none moves with AWS's default: an
	// upgrade is a reviewed config change, tier by tier. An addon not listed takes this
	// program's pin for the cluster version (AddonPins); kube-proxy must match the version.
	AddonVersions map[string]string `json:"addonVersions,omitempty"`
}

// NodePool is one EKS managed node group (an entry of scalemate:nodePools).
type NodePool struct {
	// CapacityType is ON_DEMAND or SPOT. Default ON_DEMAND.
	CapacityType string `json:"capacityType"`
	// InstanceTypes lists one architecture's types; SPOT pools need at least two to diversify.
	InstanceTypes []string `json:"instanceTypes"`
	// MinSize is the autoscaler's floor. Default 1.
	MinSize int `json:"minSize"`
	// MaxSize is the autoscaler's ceiling, at most 450 (EKS's per-group quota). Default 3.
	MaxSize int `json:"maxSize"`
	// DesiredSize is the size at creation only; afterwards the autoscaler owns it. Default MinSize.
	DesiredSize int `json:"desiredSize"`
	// DiskSizeGiB is the encrypted gp3 root volume size. Default 50.
	DiskSizeGiB int `json:"diskSizeGiB"`
	// MaxUnavailablePercent bounds nodes replaced at once during updates. Default 33.
	MaxUnavailablePercent int `json:"maxUnavailablePercent"`
	// Labels are Kubernetes node labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Taints are Kubernetes node taints.
	Taints []Taint `json:"taints,omitempty"`
}

// Taint is a Kubernetes node taint.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"` // NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE
}
