package cdn

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scalemate/infra/internal/mocktest"
)

func baseArgs() Args {
	return Args{OriginDomainName: "origin.app.example.com", WebACLARN: pulumi.String("arn:acl")}
}

func run(args Args) (*mocktest.Recorder, error) {
	return mocktest.Component(New, "edge", args)
}

func distribution(t *testing.T, args Args) (*mocktest.Recorder, mocktest.Resource) {
	t.Helper()
	rec := mocktest.MustComponent(t, New, "edge", args)
	return rec, rec.Must(t, "aws:cloudfront/distribution:Distribution", "edge")
}

func TestOriginsAndBehaviours(t *testing.T) {
	rec, d := distribution(t, baseArgs())
	assert.Equal(t, "http2and3", d.Input("httpVersion"))
	assert.Equal(t, "PriceClass_100", d.Input("priceClass"))
	assert.Equal(t, "arn:acl", d.Input("webAclId"))
	origins := d.Input("origins").([]any)
	app := origins[0].(map[string]any)
	assert.Equal(t, "origin.app.example.com", app["domainName"])
	headers := app["customHeaders"].([]any)
	require.Len(t, headers, 1)
	assert.Equal(t, "X-Origin-Verify", headers[0].(map[string]any)["name"])
	assert.True(t, d.Inputs["origins"].ContainsSecrets(), "the origin secret stays a Pulumi secret")
	assets := origins[1].(map[string]any)
	assert.Equal(t, "edge-assets-a1b2c3.s3.us-west-2.amazonaws.com", assets["domainName"])
	assert.Equal(t, "edge-id", assets["originAccessControlId"])

	def := d.Input("defaultCacheBehavior").(map[string]any)
	assert.Equal(t, "app", def["targetOriginId"])
	assert.Equal(t, CachingDisabled, def["cachePolicyId"], "API responses are never cached")
	assert.Equal(t, AllViewerExceptHostHeader, def["originRequestPolicyId"])
	for _, b := range d.Input("orderedCacheBehaviors").([]any) {
		m := b.(map[string]any)
		assert.Equal(t, "assets", m["targetOriginId"])
		assert.Equal(t, CachingOptimized, m["cachePolicyId"])
		assert.Equal(t, true, m["compress"])
	}
	logging := d.Input("loggingConfig").(map[string]any)
	assert.Equal(t, "edge-logs-a1b2c3.s3.amazonaws.com", logging["bucket"])
	assert.Contains(t, d.Dependencies, "urn:pulumi:dev::test::scalemate:cdn:CDN$aws:s3/bucketOwnershipControls:BucketOwnershipControls::edge-logs",
		"CloudFront logging needs the log bucket's ACLs enabled before the distribution")

	policy := rec.Must(t, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "edge")
	hsts := policy.Input("securityHeadersConfig").(map[string]any)["strictTransportSecurity"].(map[string]any)
	assert.EqualValues(t, 63072000, hsts["accessControlMaxAgeSec"])
	assert.Equal(t, true, hsts["preload"])
}

// Only this distribution reads the assets; both buckets are private and encrypted.
func TestBucketsArePrivate(t *testing.T) {
	args := baseArgs()
	args.LogExpirationDays = 7
	rec, _ := distribution(t, args)
	pol := rec.Must(t, "aws:s3/bucketPolicy:BucketPolicy", "edge-assets")
	var doc struct {
		Statement []struct {
			Sid       string
			Principal map[string]any
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(pol.Input("policy").(string)), &doc))
	require.Len(t, doc.Statement, 2)
	assert.Equal(t, "TLSOnly", doc.Statement[0].Sid)
	assert.Equal(t, "cloudfront.amazonaws.com", doc.Statement[1].Principal["Service"])
	assert.Equal(t, "arn:aws:cloudfront:us-west-2:123456789012:edge", doc.Statement[1].Condition["StringEquals"]["AWS:SourceArn"])
	assert.Len(t, rec.OfType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), 2)
	assert.Len(t, rec.OfType("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"), 2)
	own, _ := rec.Named("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "edge-logs")
	assert.Equal(t, map[string]any{"objectOwnership": "BucketOwnerPreferred"}, own.Input("rule"), "CloudFront logs arrive by ACL grant")
	lc, _ := rec.Named("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "edge-logs")
	assert.Equal(t, map[string]any{"days": 7.0}, lc.Input("rules").([]any)[1].(map[string]any)["expiration"], "the rule after old-versions")
}

func TestCertificateAndShield(t *testing.T) {
	args := baseArgs()
	args.DomainNames, args.ShieldAdvanced, args.Protect = []string{"app.scalemate.io"}, true, true
	args.Geo = GeoRestriction{Type: "blacklist", Locations: []string{"KP"}}
	rec, d := distribution(t, args)
	cert := rec.Must(t, "aws:acm/certificate:Certificate", "edge")
	assert.Equal(t, "DNS", cert.Input("validationMethod"))
	assert.Empty(t, rec.OfType("aws:route53/record:Record"), "no zone: the records are outputs")
	validation, ok := rec.Named("aws:acm/certificateValidation:CertificateValidation", "edge")
	require.True(t, ok, "the update waits for the certificate: CloudFront refuses one not yet issued")
	assert.Empty(t, validation.Input("validationRecordFqdns"))
	assert.Equal(t, "arn:aws:acm:us-west-2:123456789012:edge", d.Input("viewerCertificate").(map[string]any)["acmCertificateArn"])
	assert.Equal(t, "TLSv1.2_2021", d.Input("viewerCertificate").(map[string]any)["minimumProtocolVersion"])
	logs, _ := rec.Named("aws:s3/bucketV2:BucketV2", "edge-logs")
	assert.True(t, logs.Protect && logs.RetainOnDelete, "log buckets are kept in production")
	assert.Len(t, rec.OfType("aws:shield/protection:Protection"), 1)
	assert.Equal(t, map[string]any{"restrictionType": "blacklist", "locations": []any{"KP"}},
		d.Input("restrictions").(map[string]any)["geoRestriction"])
}

// *.d and d share one validation record: one Route 53 record, owned once.
func TestWildcardAndApexShareOneRecord(t *testing.T) {
	args := baseArgs()
	args.DomainNames, args.Route53ZoneID = []string{"scalemate.io", "*.scalemate.io", "app.other.io"}, pulumi.String("Z1")
	rec, _ := distribution(t, args)
	var records []mocktest.Resource
	for _, r := range rec.OfType("aws:route53/record:Record") {
		if r.Input("type") == "CNAME" {
			records = append(records, r)
		}
	}
	require.Len(t, records, 2)
	assert.Equal(t, "_fake.app.other.io.", records[0].Input("name"), "found by domain, not by position")
	assert.Equal(t, "_fake.scalemate.io.", records[1].Input("name"))
	assert.Len(t, rec.OfType("aws:route53/record:Record"), 2+3*2, "and an A and an AAAA alias per name")
	validation, _ := rec.Named("aws:acm/certificateValidation:CertificateValidation", "edge")
	assert.Len(t, validation.Input("validationRecordFqdns"), 2)
}

func TestInvalidArgsRegisterNothing(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*Args)
		want string
	}{
		"origin":  {func(a *Args) { a.OriginDomainName = "http://alb" }, `OriginDomainName: "http://alb" is not a DNS name`},
		"elb":     {func(a *Args) { a.OriginDomainName = "k8s-app-1.us-west-2.elb.amazonaws.com" }, "is the load balancer's own name, which no certificate covers"},
		"country": {func(a *Args) { a.Geo = GeoRestriction{Type: "whitelist", Locations: []string{"de"}} }, `Geo.Locations[0]: "de" is not an ISO 3166 alpha-2 code`},
		"waf":     {func(a *Args) { a.WebACLARN = nil }, "WebACLARN: must be set"},
		"dup":     {func(a *Args) { a.DomainNames = []string{"a.io", "a.io"} }, `DomainNames[1]: "a.io" is listed twice`},
		"zone":    {func(a *Args) { a.Route53ZoneID = pulumi.String("Z1") }, "Route53ZoneID: is set but DomainNames is empty"},
		"geo":     {func(a *Args) { a.Geo = GeoRestriction{Type: "whitelist"} }, "Geo.Locations: must be set exactly when"},
		"price":   {func(a *Args) { a.PriceClass = "cheap" }, `PriceClass: "cheap" is not allowed`},
	} {
		t.Run(name, func(t *testing.T) {
			args := baseArgs()
			c.edit(&args)
			rec, err := run(args)
			rec.Refused(t, err, c.want)
		})
	}
}
