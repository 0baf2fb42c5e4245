// Package clientvpn is the optional VPN path into an environment's VPC, for teams that want one
// beside Session Manager: an AWS Client VPN endpoint with mutual TLS or SAML (federated) client
// authentication, split tunnel (only the VPC's traffic takes the tunnel), the VPC's resolver
// (the private cluster endpoint's name resolves only inside the VPC), every connection logged,
// admitted to the cluster's private API on 443. Its security group reaches the VPC only.
package clientvpn

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2clientvpn"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/sgrule"
	"github.com/scalemate/infra/internal/validate"
)

// SessionTimeouts are the session lengths, in hours, Client VPN allows.
var SessionTimeouts = []int{8, 10, 12, 24}

var (
	acmARNRE  = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}$`)
	samlARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:saml-provider/[A-Za-z0-9._-]+$`)
)

// Args configures a ClientVPN.
type Args struct {
	// VPCID and VPCCIDR are the VPC the clients reach (authorized, and its resolver at base+2).
	// Required.
	VPCID   pulumi.StringInput
	VPCCIDR string
	// SubnetIDs are the private subnets, one per AZ; the endpoint is associated with the first
	// Associations of them. Required.
	SubnetIDs pulumi.StringArrayInput
	// Associations is how many subnets (AZs) carry the endpoint, 1 to 4: each costs an hour's
	// fee, two survive an AZ outage. Default 2.
	Associations int
	// APISecurityGroupID is the cluster's control-plane security group that VPN clients are
	// admitted to on 443; nil admits them nowhere.
	APISecurityGroupID pulumi.StringInput
	// ServerCertificateARN is the endpoint's ACM certificate (in the stack's region). Required.
	ServerCertificateARN string
	// ClientRootCertificateARN turns on mutual TLS: the ACM certificate of the CA that signed
	// the clients' certificates. Set it or SAMLProviderARN, or both.
	ClientRootCertificateARN string
	// SAMLProviderARN turns on federated (SAML 2.0) authentication with this IAM identity
	// provider; SelfServiceSAMLProviderARN adds the self-service portal (client downloads).
	SAMLProviderARN, SelfServiceSAMLProviderARN string
	// AccessGroupID limits SAML users to one IdP group; "" admits every authenticated client.
	AccessGroupID string
	// ClientCIDR is the clients' address range, /12 to /22, outside the VPC; fixed once created.
	// Default 172.16.0.0/22.
	ClientCIDR string
	// SessionTimeoutHours is one of SessionTimeouts. Default 8.
	SessionTimeoutHours int
	// LogRetentionDays keeps the connection log. Required.
	LogRetentionDays int
}

// ClientVPN is the component resource.
type ClientVPN struct {
	pulumi.ResourceState

	// EndpointID is the Client VPN endpoint (download its client configuration with
	// `aws ec2 export-client-vpn-client-configuration --client-vpn-endpoint-id <id>`).
	EndpointID pulumi.StringOutput `pulumi:"endpointId"`
	// DNSName is the endpoint's DNS name.
	DNSName pulumi.StringOutput `pulumi:"dnsName"`
	// SecurityGroupID is the group VPN traffic enters the VPC with.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
}

func (a Args) withDefaults() Args {
	if a.Associations == 0 {
		a.Associations = 2
	}
	if a.ClientCIDR == "" {
		a.ClientCIDR = "172.16.0.0/22"
	}
	if a.SessionTimeoutHours == 0 {
		a.SessionTimeoutHours = 8
	}
	return a
}

// Check validates the settings that are not wired from other components.
func (a Args) Check() error {
	var p validate.Problems
	a.check(&p)
	return p.Err("invalid Client VPN args")
}

func (a Args) check(p *validate.Problems) {
	a = a.withDefaults()
	if !acmARNRE.MatchString(a.ServerCertificateARN) {
		p.Addf("ServerCertificateARN", "%q is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", a.ServerCertificateARN)
	}
	switch {
	case a.ClientRootCertificateARN == "" && a.SAMLProviderARN == "":
		p.Addf("ClientRootCertificateARN", "set it (mutual TLS) or SAMLProviderARN (federated), or both: clients must authenticate")
	case a.ClientRootCertificateARN != "" && !acmARNRE.MatchString(a.ClientRootCertificateARN):
		p.Addf("ClientRootCertificateARN", "%q is not an ACM certificate ARN", a.ClientRootCertificateARN)
	}
	for field, arn := range map[string]string{"SAMLProviderARN": a.SAMLProviderARN, "SelfServiceSAMLProviderARN": a.SelfServiceSAMLProviderARN} {
		if arn != "" && !samlARNRE.MatchString(arn) {
			p.Addf(field, "%q is not an IAM SAML provider ARN (arn:aws:iam::<account>:saml-provider/<name>)", arn)
		}
	}
	if a.SelfServiceSAMLProviderARN != "" && a.SAMLProviderARN == "" {
		p.Addf("SelfServiceSAMLProviderARN", "needs SAMLProviderARN: the portal is for federated users")
	}
	if a.AccessGroupID != "" && a.SAMLProviderARN == "" {
		p.Addf("AccessGroupID", "needs SAMLProviderARN: groups come from the identity provider")
	}
	p.IntRange("Associations", a.Associations, 1, 4)
	if !slices.Contains(SessionTimeouts, a.SessionTimeoutHours) {
		p.Addf("SessionTimeoutHours", "%d is not allowed; use one of 8, 10, 12, 24", a.SessionTimeoutHours)
	}
	p.LogRetention("LogRetentionDays", a.LogRetentionDays)
	vpc, vpcOK := p.CIDR("VPCCIDR", a.VPCCIDR)
	if clients, ok := p.CIDR("ClientCIDR", a.ClientCIDR); ok {
		switch {
		case clients.Bits() < 12 || clients.Bits() > 22:
			p.Addf("ClientCIDR", "%s must be between /12 and /22 (Client VPN rule)", a.ClientCIDR)
		case vpcOK && clients.Overlaps(vpc):
			p.Addf("ClientCIDR", "%s overlaps the VPC %s; client addresses must lie outside it", a.ClientCIDR, a.VPCCIDR)
		}
	}
}

// resolver is the VPC's Amazon-provided DNS server: the VPC's base address plus two.
func resolver(vpc netip.Prefix) string {
	a := vpc.Masked().Addr().Next().Next()
	return a.String()
}

// New creates the connection log, the security group, the endpoint, its subnet associations,
// the authorization to the VPC and the admission to the cluster API.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*ClientVPN, error) {
	var p validate.Problems
	if args.VPCID == nil || args.SubnetIDs == nil {
		p.Addf("VPCID", "VPCID and SubnetIDs must be set")
	}
	args.check(&p)
	if err := p.Err(fmt.Sprintf("invalid Client VPN args for %q", name)); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	v := &ClientVPN{}
	if err := ctx.RegisterComponentResource("scalemate:clientvpn:ClientVPN", name, v, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(v)
	vpc := netip.MustParsePrefix(args.VPCCIDR)

	logs, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name: pulumi.String("/aws/clientvpn/" + name), RetentionInDays: pulumi.Int(args.LogRetentionDays),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the connection log: %w", err)
	}
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VPCID,
		Description: pulumi.String("Client VPN " + name + ": clients reach the VPC only"),
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Protocol: pulumi.String("-1"), FromPort: pulumi.Int(0), ToPort: pulumi.Int(0),
			CidrBlocks: pulumi.StringArray{pulumi.String(args.VPCCIDR)}, Description: pulumi.String("the VPC"),
		}},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the VPN security group: %w", err)
	}

	var auth ec2clientvpn.EndpointAuthenticationOptionArray
	if args.ClientRootCertificateARN != "" {
		auth = append(auth, ec2clientvpn.EndpointAuthenticationOptionArgs{
			Type: pulumi.String("certificate-authentication"), RootCertificateChainArn: pulumi.String(args.ClientRootCertificateARN),
		})
	}
	portal := "disabled"
	if args.SAMLProviderARN != "" {
		saml := ec2clientvpn.EndpointAuthenticationOptionArgs{
			Type: pulumi.String("federated-authentication"), SamlProviderArn: pulumi.String(args.SAMLProviderARN),
		}
		if args.SelfServiceSAMLProviderARN != "" {
			saml.SelfServiceSamlProviderArn, portal = pulumi.String(args.SelfServiceSAMLProviderARN), "enabled"
		}
		auth = append(auth, saml)
	}
	endpoint, err := ec2clientvpn.NewEndpoint(ctx, name, &ec2clientvpn.EndpointArgs{
		Description:           pulumi.String("VPN into " + name + "'s VPC"),
		ServerCertificateArn:  pulumi.String(args.ServerCertificateARN),
		ClientCidrBlock:       pulumi.String(args.ClientCIDR),
		AuthenticationOptions: auth,
		ConnectionLogOptions: ec2clientvpn.EndpointConnectionLogOptionsArgs{
			Enabled: pulumi.Bool(true), CloudwatchLogGroup: logs.Name,
		},
		// Split tunnel: only the VPC's traffic takes the tunnel (a full tunnel would need a
		// route, an authorization and egress to the internet per association).
		SplitTunnel:         pulumi.Bool(true),
		DnsServers:          pulumi.StringArray{pulumi.String(resolver(vpc))},
		VpcId:               args.VPCID,
		SecurityGroupIds:    pulumi.StringArray{sg.ID()},
		SelfServicePortal:   pulumi.String(portal),
		SessionTimeoutHours: pulumi.Int(args.SessionTimeoutHours),
		TransportProtocol:   pulumi.String("udp"),
		VpnPort:             pulumi.Int(443),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the Client VPN endpoint: %w", err)
	}
	for i := range args.Associations {
		if _, err := ec2clientvpn.NewNetworkAssociation(ctx, fmt.Sprintf("%s-%d", name, i), &ec2clientvpn.NetworkAssociationArgs{
			ClientVpnEndpointId: endpoint.ID(), SubnetId: args.SubnetIDs.ToStringArrayOutput().Index(pulumi.Int(i)),
		}, parent); err != nil {
			return nil, fmt.Errorf("associating the VPN with subnet %d: %w", i, err)
		}
	}
	rule := &ec2clientvpn.AuthorizationRuleArgs{
		ClientVpnEndpointId: endpoint.ID(), TargetNetworkCidr: pulumi.String(args.VPCCIDR),
		Description: pulumi.String("the VPC"),
	}
	if args.AccessGroupID != "" {
		rule.AccessGroupId = pulumi.String(args.AccessGroupID)
	} else {
		rule.AuthorizeAllGroups = pulumi.Bool(true)
	}
	if _, err := ec2clientvpn.NewAuthorizationRule(ctx, name+"-vpc", rule, parent); err != nil {
		return nil, fmt.Errorf("authorizing VPN clients to the VPC: %w", err)
	}
	if args.APISecurityGroupID != nil {
		if err := sgrule.Allow(ctx, name+"-to-cluster-api", sgrule.Ingress, args.APISecurityGroupID, sg.ID(), 443,
			"Kubernetes API from Client VPN "+name, parent); err != nil {
			return nil, err
		}
	}

	v.EndpointID, v.DNSName, v.SecurityGroupID = endpoint.ID().ToStringOutput(), endpoint.DnsName, sg.ID().ToStringOutput()
	return v, ctx.RegisterResourceOutputs(v, pulumi.Map{
		"endpointId": v.EndpointID, "dnsName": v.DNSName, "securityGroupId": v.SecurityGroupID,
	})
}
