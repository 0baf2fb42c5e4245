package clientvpn

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

const (
	serverCert = "arn:aws:acm:us-west-2:123456789012:certificate/11111111-2222-3333-4444-555555555555"
	clientCA   = "arn:aws:acm:us-west-2:123456789012:certificate/66666666-7777-8888-9999-000000000000"
	saml       = "arn:aws:iam::123456789012:saml-provider/okta"
)

func baseArgs() Args {
	return Args{
		VPCID: pulumi.String("vpc-1"), VPCCIDR: "10.0.0.0/16",
		SubnetIDs:            pulumi.ToStringArray([]string{"subnet-a", "subnet-b", "subnet-c"}),
		APISecurityGroupID:   pulumi.String("sg-api"),
		ServerCertificateARN: serverCert, ClientRootCertificateARN: clientCA, LogRetentionDays: 365,
	}
}

// Mutual TLS by default: split tunnel, the VPC's resolver, every connection logged, two AZs,
// the VPC authorized for every client, admitted to the cluster API on 443 only.
func TestMutualTLSEndpoint(t *testing.T) {
	rec := mocktest.MustComponent(t, New, "scalemate-prod-vpn", baseArgs())
	ep := rec.Must(t, "aws:ec2clientvpn/endpoint:Endpoint", "scalemate-prod-vpn")
	assert.Equal(t, []any{map[string]any{"type": "certificate-authentication", "rootCertificateChainArn": clientCA}}, ep.Input("authenticationOptions"))
	assert.Equal(t, serverCert, ep.Input("serverCertificateArn"))
	assert.Equal(t, "172.16.0.0/22", ep.Input("clientCidrBlock"))
	assert.Equal(t, true, ep.Input("splitTunnel"))
	assert.Equal(t, []any{"10.0.0.2"}, ep.Input("dnsServers"), "the private cluster endpoint resolves inside the VPC only")
	assert.Equal(t, map[string]any{"enabled": true, "cloudwatchLogGroup": "/aws/clientvpn/scalemate-prod-vpn"}, ep.Input("connectionLogOptions"))
	assert.EqualValues(t, 8, ep.Input("sessionTimeoutHours"))
	assert.Equal(t, "disabled", ep.Input("selfServicePortal"))
	assert.EqualValues(t, 365, rec.Must(t, "aws:cloudwatch/logGroup:LogGroup", "scalemate-prod-vpn").Input("retentionInDays"))

	assocs := rec.OfType("aws:ec2clientvpn/networkAssociation:NetworkAssociation")
	require.Len(t, assocs, 2)
	assert.Equal(t, "subnet-a", assocs[0].Input("subnetId"))
	rule := rec.Must(t, "aws:ec2clientvpn/authorizationRule:AuthorizationRule", "scalemate-prod-vpn-vpc")
	assert.Equal(t, "10.0.0.0/16", rule.Input("targetNetworkCidr"))
	assert.Equal(t, true, rule.Input("authorizeAllGroups"))

	sg := rec.Must(t, "aws:ec2/securityGroup:SecurityGroup", "scalemate-prod-vpn")
	assert.Equal(t, []any{"10.0.0.0/16"}, sg.Input("egress").([]any)[0].(map[string]any)["cidrBlocks"], "clients reach the VPC only")
	api := rec.Must(t, "aws:ec2/securityGroupRule:SecurityGroupRule", "scalemate-prod-vpn-to-cluster-api")
	assert.Equal(t, "sg-api", api.Input("securityGroupId"))
	assert.EqualValues(t, 443, api.Input("fromPort"))
}

// SAML: federated users of one group, with the self-service portal.
func TestSAMLEndpoint(t *testing.T) {
	args := baseArgs()
	args.ClientRootCertificateARN, args.SAMLProviderARN, args.SelfServiceSAMLProviderARN, args.AccessGroupID = "", saml, saml, "platform-oncall"
	args.Associations, args.SessionTimeoutHours = 1, 12
	rec := mocktest.MustComponent(t, New, "scalemate-dev-vpn", args)
	ep := rec.Must(t, "aws:ec2clientvpn/endpoint:Endpoint", "scalemate-dev-vpn")
	assert.Equal(t, []any{map[string]any{"type": "federated-authentication", "samlProviderArn": saml, "selfServiceSamlProviderArn": saml}}, ep.Input("authenticationOptions"))
	assert.Equal(t, "enabled", ep.Input("selfServicePortal"))
	assert.Len(t, rec.OfType("aws:ec2clientvpn/networkAssociation:NetworkAssociation"), 1)
	rule := rec.Must(t, "aws:ec2clientvpn/authorizationRule:AuthorizationRule", "scalemate-dev-vpn-vpc")
	assert.Equal(t, "platform-oncall", rule.Input("accessGroupId"))
	assert.Nil(t, rule.Input("authorizeAllGroups"))
}

func TestClientVPNArgsRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Args)
		want   string
	}{
		"no client auth":     {func(a *Args) { a.ClientRootCertificateARN = "" }, "ClientRootCertificateARN: set it (mutual TLS) or SAMLProviderARN"},
		"server cert":        {func(a *Args) { a.ServerCertificateARN = "my-cert" }, `ServerCertificateARN: "my-cert" is not an ACM certificate ARN`},
		"saml arn":           {func(a *Args) { a.SAMLProviderARN = "okta" }, `SAMLProviderARN: "okta" is not an IAM SAML provider ARN`},
		"portal without idp": {func(a *Args) { a.SelfServiceSAMLProviderARN = saml }, "SelfServiceSAMLProviderARN: needs SAMLProviderARN"},
		"group without idp":  {func(a *Args) { a.AccessGroupID = "ops" }, "AccessGroupID: needs SAMLProviderARN"},
		"overlap":            {func(a *Args) { a.ClientCIDR = "10.0.4.0/22" }, "ClientCIDR: 10.0.4.0/22 overlaps the VPC 10.0.0.0/16"},
		"too small":          {func(a *Args) { a.ClientCIDR = "172.16.0.0/24" }, "ClientCIDR: 172.16.0.0/24 must be between /12 and /22"},
		"timeout":            {func(a *Args) { a.SessionTimeoutHours = 6 }, "SessionTimeoutHours: 6 is not allowed; use one of 8, 10, 12, 24"},
		"associations":       {func(a *Args) { a.Associations = 5 }, "Associations"},
		"no vpc":             {func(a *Args) { a.VPCID = nil }, "VPCID: VPCID and SubnetIDs must be set"},
		"retention":          {func(a *Args) { a.LogRetentionDays = 0 }, "LogRetentionDays"},
	} {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			tc.mutate(&args)
			rec, err := mocktest.Component(New, "scalemate-prod-vpn", args)
			rec.Refused(t, err, tc.want)
		})
	}
}
