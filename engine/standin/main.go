// Command standin is an OFFLINE STAND-IN for the aws, kubernetes and random Pulumi provider
// plugins, for previews and updates on a machine with no cloud account. It creates nothing:
// resources get deterministic fake ids and the ARNs, endpoints and secrets that
// internal/fakecloud invents, diffs compare inputs, and a short table of create-only
// properties marks replacements. Invokes other than the program's few are refused.
//
// It is installed under the plugin names (pulumi-resource-aws, ...) in a private directory that
// only the offline tooling and engine tests put first on PATH; never on a user's PATH, where it
// would shadow the real plugins. The plugin name it serves is taken from its file name.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/scalemate/infra/internal/fakecloud"
)

// Versions the stand-ins report, set at build time from go.mod (engine/offline does it).
var (
	awsVersion        = "0.0.0"
	kubernetesVersion = "0.0.0"
	randomVersion     = "0.0.0"
)

func main() {
	name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-"), ".exe")
	version, ok := map[string]string{"aws": awsVersion, "kubernetes": kubernetesVersion, "random": randomVersion}[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "standin: %q is not a provider this stand-in serves (aws, kubernetes, random)\n", name)
		os.Exit(1)
	}
	err := provider.Main(name, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &standin{name: name, version: version}, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type standin struct {
	pulumirpc.UnimplementedResourceProviderServer
	name, version string
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, opts)
}
func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

// createOnly are the properties whose change replaces the resource (the providers' ForceNew),
// for the types this program creates; any other change updates in place.
var createOnly = map[string][]string{
	"aws:ec2/vpc:Vpc":                                                        {"cidrBlock"},
	"aws:ec2/subnet:Subnet":                                                  {"vpcId", "cidrBlock", "availabilityZone"},
	"aws:ec2/natGateway:NatGateway":                                          {"subnetId", "allocationId"},
	"aws:ec2/routeTableAssociation:RouteTableAssociation":                    {"subnetId"},
	"aws:ec2/securityGroup:SecurityGroup":                                    {"vpcId", "description", "name"},
	"aws:ec2/securityGroupRule:SecurityGroupRule":                            {"type", "securityGroupId", "sourceSecurityGroupId", "protocol", "fromPort", "toPort", "cidrBlocks", "prefixListIds", "description"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                                        {"vpcId", "serviceName", "vpcEndpointType"},
	"aws:ec2/flowLog:FlowLog":                                                {"vpcId", "logDestination", "trafficType", "maxAggregationInterval", "iamRoleArn"},
	"aws:eks/cluster:Cluster":                                                {"name", "roleArn", "kubernetesNetworkConfig", "bootstrapSelfManagedAddons"},
	"aws:eks/nodeGroup:NodeGroup":                                            {"clusterName", "nodeGroupName", "subnetIds", "instanceTypes", "capacityType", "amiType", "nodeRoleArn"},
	"aws:eks/addon:Addon":                                                    {"clusterName", "addonName"},
	"aws:eks/accessEntry:AccessEntry":                                        {"clusterName", "principalArn", "type"},
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider":                    {"url"},
	"aws:iam/role:Role":                                                      {"name", "path"},
	"aws:cloudwatch/logGroup:LogGroup":                                       {"name"},
	"aws:kms/alias:Alias":                                                    {"name"},
	"aws:rds/instance:Instance":                                              {"identifier", "engine", "kmsKeyId", "storageEncrypted", "username", "dbName", "snapshotIdentifier", "restoreToPointInTime", "replicateSourceDb"},
	"aws:rds/parameterGroup:ParameterGroup":                                  {"family", "name", "description"},
	"aws:rds/subnetGroup:SubnetGroup":                                        {"name"},
	"aws:rds/proxy:Proxy":                                                    {"name", "engineFamily"},
	"aws:elasticache/replicationGroup:ReplicationGroup":                      {"replicationGroupId", "snapshotName", "atRestEncryptionEnabled", "kmsKeyId", "subnetGroupName", "port"},
	"aws:elasticache/parameterGroup:ParameterGroup":                          {"family", "name", "description"},
	"aws:elasticache/subnetGroup:SubnetGroup":                                {"name"},
	"aws:secretsmanager/secret:Secret":                                       {"name"},
	"aws:backup/vault:Vault":                                                 {"name", "kmsKeyArn"},
	"aws:backup/vaultLockConfiguration:VaultLockConfiguration":               {"backupVaultName", "minRetentionDays", "maxRetentionDays", "changeableForDays"},
	"aws:backup/restoreTestingPlan:RestoreTestingPlan":                       {"name"},
	"aws:s3/bucketV2:BucketV2":                                               {"bucket", "bucketPrefix"},
	"aws:acm/certificate:Certificate":                                        {"domainName", "subjectAlternativeNames", "validationMethod", "keyAlgorithm"},
	"aws:sns/topic:Topic":                                                    {"name", "fifoTopic"},
	"aws:sns/topicSubscription:TopicSubscription":                            {"topic", "protocol", "endpoint"},
	"aws:cloudwatch/metricAlarm:MetricAlarm":                                 {"name"},
	"aws:cloudwatch/compositeAlarm:CompositeAlarm":                           {"alarmName"},
	"aws:cloudwatch/dashboard:Dashboard":                                     {"dashboardName"},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter":                         {"name", "logGroupName"},
	"aws:budgets/budget:Budget":                                              {"name", "accountId"},
	"aws:cloudwatch/eventRule:EventRule":                                     {"name", "namePrefix", "eventBusName"},
	"aws:codebuild/project:Project":                                          {"name"},
	"aws:cloudtrail/trail:Trail":                                             {"name"},
	"aws:ssmcontacts/contact:Contact":                                        {"alias", "type"},
	"aws:ssmcontacts/contactChannel:ContactChannel":                          {"contactId", "type"},
	"aws:ssmincidents/responsePlan:ResponsePlan":                             {"name"},
	"aws:costexplorer/anomalyMonitor:AnomalyMonitor":                         {"monitorType", "monitorDimension", "monitorSpecification"},
	"aws:guardduty/detectorFeature:DetectorFeature":                          {"detectorId", "name"},
	"aws:securityhub/standardsSubscription:StandardsSubscription":            {"standardsArn"},
	"aws:cfg/recorder:Recorder":                                              {"name"},
	"aws:cfg/deliveryChannel:DeliveryChannel":                                {"name"},
	"aws:accessanalyzer/analyzer:Analyzer":                                   {"analyzerName", "type"},
	"aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": {"bucket"},
	"aws:codebuild/webhook:Webhook":                                          {"projectName", "scopeConfiguration"},
	"aws:cloudwatch/eventTarget:EventTarget":                                 {"rule", "targetId", "eventBusName"},
	"aws:s3/bucketObjectv2:BucketObjectv2":                                   {"bucket", "key"},
	"aws:synthetics/canary:Canary":                                           {"name"},
	"aws:ssm/document:Document":                                              {"name", "documentType"},
	"aws:ec2clientvpn/endpoint:Endpoint":                                     {"clientCidrBlock", "authenticationOptions", "transportProtocol"},
	"aws:ec2clientvpn/networkAssociation:NetworkAssociation":                 {"clientVpnEndpointId", "subnetId"},
	"aws:ec2clientvpn/authorizationRule:AuthorizationRule":                   {"clientVpnEndpointId", "targetNetworkCidr", "accessGroupId", "authorizeAllGroups", "description"},
	"aws:ecr/repository:Repository":                                          {"name", "encryptionConfigurations"},
	"aws:ecr/lifecyclePolicy:LifecyclePolicy":                                {"repository", "policy"},
	"aws:ecr/repositoryPolicy:RepositoryPolicy":                              {"repository"},
	"kubernetes:scheduling.k8s.io/v1:PriorityClass":                          {"value", "preemptionPolicy"},
	"kubernetes:storage.k8s.io/v1:StorageClass":                              {"provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"},
	"kubernetes:helm.sh/v3:Release":                                          {"name", "namespace"},
	"aws:lb/loadBalancer:LoadBalancer":                                       {"name", "namePrefix", "internal", "loadBalancerType", "customerOwnedIpv4Pool"},
	"aws:lb/targetGroup:TargetGroup":                                         {"name", "namePrefix", "port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType"},
	"aws:lb/listener:Listener":                                               {"loadBalancerArn"},
	"aws:lb/listenerRule:ListenerRule":                                       {"listenerArn"},
	"aws:wafv2/webAclAssociation:WebAclAssociation":                          {"resourceArn", "webAclArn"},
	// A Job's pod template is immutable: a new version is a new Job.
	"kubernetes:batch/v1:Job":                    {"spec"},
	"random:index/randomPassword:RandomPassword": {"length", "special", "overrideSpecial", "keepers", "upper", "lower", "numeric"},
	"random:index/randomId:RandomId":             {"byteLength", "keepers", "prefix"},
}

// updateOnly are the other types the program creates: every change updates them in place.
// With createOnly, they are the types the stand-ins know; any other type is refused.
var updateOnly = []string{
	"aws:backup/plan:Plan", "aws:backup/restoreTestingSelection:RestoreTestingSelection", "aws:backup/selection:Selection",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "aws:ec2/eip:Eip", "aws:ec2/internetGateway:InternetGateway",
	"aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2/routeTable:RouteTable", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
	"aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:kms/key:Key",
	"aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "aws:rds/proxyTarget:ProxyTarget",
	"aws:secretsmanager/secretVersion:SecretVersion",
	"aws:guardduty/detector:Detector", "aws:ssmcontacts/plan:Plan", "aws:ssmincidents/replicationSet:ReplicationSet", "aws:costexplorer/anomalySubscription:AnomalySubscription", "aws:securityhub/account:Account", "aws:cfg/recorderStatus:RecorderStatus",
	"aws:inspector2/enabler:Enabler", "aws:ebs/encryptionByDefault:EncryptionByDefault",
	"aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "aws:ec2/instanceMetadataDefaults:InstanceMetadataDefaults",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketVersioningV2:BucketVersioningV2",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "aws:s3/bucketPolicy:BucketPolicy",
	"aws:cloudfront/distribution:Distribution", "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
	"aws:cloudfront/originAccessControl:OriginAccessControl", "aws:wafv2/webAcl:WebAcl", "aws:wafv2/ipSet:IpSet",
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "aws:shield/protection:Protection",
	"aws:route53/record:Record", "aws:acm/certificateValidation:CertificateValidation",
	"aws:sns/topicPolicy:TopicPolicy", "aws:cloudwatch/queryDefinition:QueryDefinition",
	// Kubernetes objects keep their name (metadata); spec and data change in place.
	"kubernetes:core/v1:Namespace", "kubernetes:core/v1:ResourceQuota", "kubernetes:core/v1:LimitRange",
	"kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:ConfigMap", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
	"kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
	"kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:core/v1:Secret",
	// The local stack's stores. A StatefulSet's immutable fields are nested in spec (claim
	// templates, selector, service name): offline they show as updates; the real provider
	// replaces it, which TestLocalStackOnARealKubernetesAPIServer shows.
	"kubernetes:apps/v1:StatefulSet",
	// Custom resources of the load balancer controller and the External Secrets Operator; the
	// program marks a binding's target group replace-on-change itself.
	"kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
	"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
	"kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
	"kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", "kubernetes:external-secrets.io/v1:SecretStore",
	"kubernetes:external-secrets.io/v1:ExternalSecret",
}

// failEnv names resources whose create or update fails, to rehearse a failed deployment step
// (a migration Job that fails): a comma-separated list of substrings of their URNs. Engine tests
// set it; nothing else should.
const failEnv = "SCALEMATE_STANDIN_FAIL"

// injectedFailure is the error of a resource that failEnv names.
func injectedFailure(urn string) error {
	for _, part := range strings.Split(os.Getenv(failEnv), ",") {
		if part != "" && strings.Contains(urn, part) {
			return fmt.Errorf("offline stand-in: %s failed as %s asked (rehearsed failure)", urn, failEnv)
		}
	}
	return nil
}

func known(typ string) error {
	if _, ok := createOnly[typ]; ok || slices.Contains(updateOnly, typ) {
		return nil
	}
	return fmt.Errorf("offline stand-in: resource type %s is not known; add it to engine/standin (createOnly or updateOnly)", typ)
}

func (p *standin) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true}, nil
}

func (p *standin) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.version}, nil
}

func (p *standin) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, p.name, p.version)}, nil
}

func (p *standin) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *standin) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure asks the engine to call Create and Update during previews too, so outputs AWS
// would compute show as unknown, as with the real providers.
func (p *standin) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *standin) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := known(req.GetType()); err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

// Diff compares the new inputs with the old ones, key by key.
func (p *standin) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var diffs, replaces []string
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	for k := range keys {
		o, n := olds[k], news[k]
		if n.ContainsUnknowns() || !o.DeepEquals(n) {
			diffs = append(diffs, string(k))
			if slices.Contains(createOnly[req.GetType()], string(k)) {
				replaces = append(replaces, string(k))
			}
		}
	}
	sort.Strings(diffs)
	sort.Strings(replaces)
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{Changes: changes, Diffs: diffs, Replaces: replaces}, nil
}

// id is deterministic: the logical name and a hash of the URN.
func id(urn string) string {
	sum := sha1.Sum([]byte(urn))
	return resource.URN(urn).Name() + "-" + hex.EncodeToString(sum[:4])
}

func (p *standin) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	news, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	state := fakecloud.Outputs(string(urn.Type()), urn.Name(), news)
	if req.GetPreview() {
		// Like a real provider: during a preview what AWS computes is not known yet.
		out, err := marshal(unknownOutputs(news, state))
		return &pulumirpc.CreateResponse{Properties: out}, err
	}
	if err := injectedFailure(req.GetUrn()); err != nil {
		return nil, err
	}
	if urn.Type() == "random:index/randomPassword:RandomPassword" && os.Getenv("SCALEMATE_STANDIN_RANDOM") == "1" {
		// For a deploy that keeps what it makes (`make local`): real random passwords, not the
		// fixed fakes the tests rely on.
		state["result"] = resource.MakeSecret(resource.NewPropertyValue(randomPassword(news["length"])))
	}
	out, err := marshal(state)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id(req.GetUrn()), Properties: out}, nil
}

// randomPassword is length (default 32, at least 16) letters and digits from crypto/rand.
func randomPassword(length resource.PropertyValue) string {
	n := 32
	if length.IsNumber() {
		n = max(int(length.NumberValue()), 16)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic(err) // the system's random source failed: no password is better than a weak one
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// unknownOutputs is state with every value the inputs did not set marked unknown.
func unknownOutputs(inputs, state resource.PropertyMap) resource.PropertyMap {
	out := state.Copy()
	for k, v := range state {
		if _, set := inputs[k]; !set {
			out[k] = resource.MakeComputed(resource.NewStringProperty(""))
		} else if k == "vpcConfig" && v.IsObject() { // the cluster security group nests in an input
			cfg := v.ObjectValue().Copy()
			cfg["clusterSecurityGroupId"] = resource.MakeComputed(resource.NewStringProperty(""))
			out[k] = resource.NewObjectProperty(cfg)
		}
	}
	return out
}

func (p *standin) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *standin) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	state := fakecloud.Outputs(string(urn.Type()), urn.Name(), news)
	for k, v := range olds { // computed outputs survive an update; removed inputs do not
		if _, wasInput := oldInputs[k]; !wasInput {
			if _, ok := state[k]; !ok {
				state[k] = v
			}
		}
	}
	out, err := marshal(state)
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: out}, err
	}
	if err := injectedFailure(req.GetUrn()); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: out}, nil
}

func (p *standin) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *standin) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	result, err := fakecloud.Invoke(req.GetTok(), args)
	if err != nil {
		return nil, err
	}
	out, err := marshal(result)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: out}, nil
}

func (p *standin) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *standin) Attach(context.Context, *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
