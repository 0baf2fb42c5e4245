// Package cdn is the CloudFront front door of the platform: the application's load balancer as
// the default origin (HTTPS only, TLS 1.2, a secret header so the origin can refuse traffic
// that bypassed the CDN) and a private S3 bucket of static assets reached through Origin
// Access Control; cached static paths, uncached API paths, redirect to HTTPS, HTTP/2 and 3,
// HSTS and security headers; an ACM certificate for the domains (or CloudFront's default
// certificate where none are configured); access logs with expiry; the WAF web ACL attached;
// optional Shield Advanced.
//
// Deploy it with a us-east-1 provider: CloudFront's certificate must live there.
package cdn

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/shield"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/dnscert"
	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/s3bucket"
	"github.com/scalemate/infra/internal/validate"
)

// Managed CloudFront policies (IDs are global and fixed).
const (
	CachingOptimized           = "658327ea-f89d-4fab-a63d-7e88639e58f6" // static: long TTLs, gzip and brotli
	CachingDisabled            = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" // API: never cached
	AllViewerExceptHostHeader  = "b689b0a8-53d0-40ab-baf2-68738e2966ac" // API: headers, cookies, query strings
	OriginVerifyHeader         = "X-Origin-Verify"
	minimumViewerTLS           = "TLSv1.2_2021"
	defaultHSTSMaxAgeInSeconds = 63072000 // two years, as HSTS preload lists require
)

// PriceClasses CloudFront offers.
var PriceClasses = []string{"PriceClass_100", "PriceClass_200", "PriceClass_All"}

// StaticPaths are served from the assets bucket and cached.
var StaticPaths = []string{"/static/*", "/assets/*", "/favicon.ico"}

var (
	domainRE   = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
	awsRegionR = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
)

// GeoRestriction limits who can reach the distribution.
type GeoRestriction struct {
	// Type is none, whitelist or blacklist.
	Type string
	// Locations are ISO 3166 alpha-2 codes.
	Locations []string
}

// Args configures a CDN.
type Args struct {
	// OriginDomainName is a DNS name of the application's load balancer that its TLS
	// certificate covers (e.g. origin.app.example.com, a CNAME to the load balancer): CloudFront
	// checks the origin's certificate against it, and no certificate covers *.elb.amazonaws.com.
	// Required.
	OriginDomainName string
	// DomainNames are the distribution's aliases; the first is the certificate's name. Empty
	// uses CloudFront's default certificate and domain (non-production).
	DomainNames []string
	// Route53ZoneID, when set, gets the certificate's DNS validation records (the certificate
	// is waited for) and the aliases' A and AAAA records; otherwise the validation records are
	// outputs to create elsewhere.
	Route53ZoneID pulumi.StringInput
	// WebACLARN is the WAF web ACL (scope CLOUDFRONT). Required.
	WebACLARN pulumi.StringInput
	// PriceClass is one of PriceClasses. Default PriceClass_100.
	PriceClass string
	// OriginShieldRegion adds Origin Shield in that region (the origin's). Default off.
	OriginShieldRegion string
	// Geo restricts viewers by country. Default none.
	Geo GeoRestriction
	// LogExpirationDays deletes access logs after this many days. Default 30.
	LogExpirationDays int
	// ShieldAdvanced protects the distribution with AWS Shield Advanced (3,000 USD a month per
	// organization; the subscription must exist). Default false: Shield Standard is implicit.
	ShieldAdvanced bool
	// Protect guards the assets bucket against deletion by Pulumi and retains it (production).
	Protect bool
	// ForceDestroy lets a destroy delete the log and assets buckets with their objects (dev).
	ForceDestroy bool
}

// CDN is the component resource.
type CDN struct {
	pulumi.ResourceState

	// DistributionID, DomainName and ARN identify the distribution.
	DistributionID pulumi.StringOutput `pulumi:"distributionId"`
	DomainName     pulumi.StringOutput `pulumi:"domainName"`
	ARN            pulumi.StringOutput `pulumi:"arn"`
	// AssetsBucket is the static assets bucket's name.
	AssetsBucket pulumi.StringOutput `pulumi:"assetsBucket"`
	// OriginVerifySecret is the X-Origin-Verify header value the origin must require (secret).
	OriginVerifySecret pulumi.StringOutput `pulumi:"originVerifySecret"`
	// ValidationRecords are the certificate's DNS validation records (name, type, value), to
	// create in DNS when no Route 53 zone is given.
	ValidationRecords pulumi.ArrayOutput `pulumi:"validationRecords"`
}

func (a Args) withDefaults() Args {
	if a.PriceClass == "" {
		a.PriceClass = "PriceClass_100"
	}
	if a.Geo.Type == "" {
		a.Geo.Type = "none"
	}
	if a.LogExpirationDays == 0 {
		a.LogExpirationDays = 30
	}
	return a
}

// Check validates every setting except the WAF input wired from another component.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p)
	return p.Err(fmt.Sprintf("invalid cdn args for %q", name))
}

func (a Args) check(p *validate.Problems) {
	a = a.withDefaults()
	switch {
	case !validate.IsHostName(a.OriginDomainName):
		p.Addf("OriginDomainName", "%q is not a DNS name (a name of the load balancer its certificate covers, e.g. origin.app.example.com)", a.OriginDomainName)
	case strings.HasSuffix(a.OriginDomainName, ".elb.amazonaws.com"):
		p.Addf("OriginDomainName", "%q is the load balancer's own name, which no certificate covers: CloudFront's HTTPS to it would fail; use a name of yours (a CNAME to it) that the load balancer's certificate covers", a.OriginDomainName)
	}
	for i, d := range a.DomainNames {
		field := fmt.Sprintf("DomainNames[%d]", i)
		switch {
		case !domainRE.MatchString(d):
			p.Addf(field, "%q is not a lower-case DNS name", d)
		case slices.Index(a.DomainNames, d) != i:
			p.Addf(field, "%q is listed twice", d)
		}
	}
	if a.Route53ZoneID != nil && len(a.DomainNames) == 0 {
		p.Addf("Route53ZoneID", "is set but DomainNames is empty: there is no certificate to validate")
	}
	p.OneOf("PriceClass", a.PriceClass, PriceClasses...)
	p.OneOf("Geo.Type", a.Geo.Type, "none", "whitelist", "blacklist")
	if (a.Geo.Type == "none") != (len(a.Geo.Locations) == 0) {
		p.Addf("Geo.Locations", "must be set exactly when Geo.Type is whitelist or blacklist")
	}
	for i, c := range a.Geo.Locations {
		if !countryRE.MatchString(c) {
			p.Addf(fmt.Sprintf("Geo.Locations[%d]", i), "%q is not an ISO 3166 alpha-2 code (e.g. DE)", c)
		}
	}
	if a.OriginShieldRegion != "" && !awsRegionR.MatchString(a.OriginShieldRegion) {
		p.Addf("OriginShieldRegion", "%q is not an AWS region (e.g. us-west-2)", a.OriginShieldRegion)
	}
	p.IntRange("LogExpirationDays", a.LogExpirationDays, 1, 3653)
}

// New creates the distribution and everything it needs.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*CDN, error) {
	var p validate.Problems
	if args.WebACLARN == nil {
		p.Addf("WebACLARN", "must be set (every distribution sits behind WAF)")
	}
	args.check(&p)
	if err := p.Err(fmt.Sprintf("invalid cdn args for %q", name)); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	c := &CDN{}
	if err := ctx.RegisterComponentResource("scalemate:cdn:CDN", name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	secret, err := random.NewRandomPassword(ctx, name+"-origin-verify", &random.RandomPasswordArgs{Length: pulumi.Int(48), Special: pulumi.Bool(false)}, parent)
	if err != nil {
		return nil, fmt.Errorf("generating origin verify secret: %w", err)
	}
	logs, err := s3bucket.New(ctx, name+"-logs", s3bucket.Args{
		Prefix: name + "-cdn-logs-", ACLsForLogDelivery: true, ExpireDays: args.LogExpirationDays, Protect: args.Protect,
		ForceDestroy: args.ForceDestroy,
	}, parent)
	if err != nil {
		return nil, err
	}
	oac, err := cloudfront.NewOriginAccessControl(ctx, name, &cloudfront.OriginAccessControlArgs{
		Description:                   pulumi.String("Assets bucket of " + name),
		OriginAccessControlOriginType: pulumi.String("s3"),
		SigningBehavior:               pulumi.String("always"),
		SigningProtocol:               pulumi.String("sigv4"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating origin access control: %w", err)
	}
	headers, err := cloudfront.NewResponseHeadersPolicy(ctx, name, &cloudfront.ResponseHeadersPolicyArgs{
		Comment: pulumi.String("HSTS and security headers for " + name),
		SecurityHeadersConfig: cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs{
			StrictTransportSecurity: cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs{
				AccessControlMaxAgeSec: pulumi.Int(defaultHSTSMaxAgeInSeconds), IncludeSubdomains: pulumi.Bool(true), Preload: pulumi.Bool(true), Override: pulumi.Bool(true)},
			ContentTypeOptions: cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs{Override: pulumi.Bool(true)},
			FrameOptions:       cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs{FrameOption: pulumi.String("DENY"), Override: pulumi.Bool(true)},
			ReferrerPolicy:     cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs{ReferrerPolicy: pulumi.String("strict-origin-when-cross-origin"), Override: pulumi.Bool(true)},
			XssProtection:      cloudfront.ResponseHeadersPolicySecurityHeadersConfigXssProtectionArgs{Protection: pulumi.Bool(true), ModeBlock: pulumi.Bool(true), Override: pulumi.Bool(true)},
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating response headers policy: %w", err)
	}

	viewerCert := cloudfront.DistributionViewerCertificateArgs{CloudfrontDefaultCertificate: pulumi.Bool(true)}
	records := pulumi.Array{}.ToArrayOutput()
	if len(args.DomainNames) > 0 {
		cert, err := dnscert.New(ctx, name, dnscert.Args{DomainNames: args.DomainNames, ZoneID: args.Route53ZoneID}, parent)
		if err != nil {
			return nil, err
		}
		records = cert.Records
		viewerCert = cloudfront.DistributionViewerCertificateArgs{
			AcmCertificateArn: cert.ARN, SslSupportMethod: pulumi.String("sni-only"), MinimumProtocolVersion: pulumi.String(minimumViewerTLS)}
	}

	// The distribution names the bucket and the bucket's policy names the distribution: the
	// bucket comes first, its policy once the distribution exists.
	assets, err := s3bucket.New(ctx, name+"-assets", s3bucket.Args{
		Prefix: name + "-assets-", NoncurrentDays: 30, Protect: args.Protect, DeferPolicy: true,
		ForceDestroy: args.ForceDestroy,
	}, parent)
	if err != nil {
		return nil, err
	}

	const appOrigin, assetsOrigin = "app", "assets"
	origin := cloudfront.DistributionOriginArgs{
		OriginId:   pulumi.String(appOrigin),
		DomainName: pulumi.String(args.OriginDomainName),
		CustomOriginConfig: cloudfront.DistributionOriginCustomOriginConfigArgs{
			HttpPort: pulumi.Int(80), HttpsPort: pulumi.Int(443), OriginProtocolPolicy: pulumi.String("https-only"),
			OriginSslProtocols: pulumi.StringArray{pulumi.String("TLSv1.2")},
		},
		CustomHeaders: cloudfront.DistributionOriginCustomHeaderArray{cloudfront.DistributionOriginCustomHeaderArgs{
			Name: pulumi.String(OriginVerifyHeader), Value: secret.Result}},
	}
	if args.OriginShieldRegion != "" {
		origin.OriginShield = cloudfront.DistributionOriginOriginShieldArgs{Enabled: pulumi.Bool(true), OriginShieldRegion: pulumi.String(args.OriginShieldRegion)}
	}
	var static cloudfront.DistributionOrderedCacheBehaviorArray
	for _, path := range StaticPaths {
		static = append(static, cloudfront.DistributionOrderedCacheBehaviorArgs{
			PathPattern: pulumi.String(path), TargetOriginId: pulumi.String(assetsOrigin),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"), Compress: pulumi.Bool(true),
			AllowedMethods:          pulumi.ToStringArray([]string{"GET", "HEAD"}),
			CachedMethods:           pulumi.ToStringArray([]string{"GET", "HEAD"}),
			CachePolicyId:           pulumi.String(CachingOptimized),
			ResponseHeadersPolicyId: headers.ID(),
		})
	}
	dist, err := cloudfront.NewDistribution(ctx, name, &cloudfront.DistributionArgs{
		Enabled:       pulumi.Bool(true),
		Comment:       pulumi.String(name),
		Aliases:       pulumi.ToStringArray(args.DomainNames),
		HttpVersion:   pulumi.String("http2and3"),
		IsIpv6Enabled: pulumi.Bool(true),
		PriceClass:    pulumi.String(args.PriceClass),
		WebAclId:      args.WebACLARN,
		Origins: cloudfront.DistributionOriginArray{origin, cloudfront.DistributionOriginArgs{
			OriginId: pulumi.String(assetsOrigin), DomainName: assets.BucketRegionalDomainName, OriginAccessControlId: oac.ID(),
		}},
		// API and pages: never cached, everything the app needs forwarded.
		DefaultCacheBehavior: cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:          pulumi.String(appOrigin),
			ViewerProtocolPolicy:    pulumi.String("redirect-to-https"),
			AllowedMethods:          pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}),
			CachedMethods:           pulumi.ToStringArray([]string{"GET", "HEAD"}),
			CachePolicyId:           pulumi.String(CachingDisabled),
			OriginRequestPolicyId:   pulumi.String(AllViewerExceptHostHeader),
			ResponseHeadersPolicyId: headers.ID(),
			Compress:                pulumi.Bool(true),
		},
		OrderedCacheBehaviors: static,
		ViewerCertificate:     viewerCert,
		LoggingConfig: cloudfront.DistributionLoggingConfigArgs{
			Bucket: logs.BucketDomainName, Prefix: pulumi.String(name + "/"), IncludeCookies: pulumi.Bool(false)},
		Restrictions: cloudfront.DistributionRestrictionsArgs{GeoRestriction: cloudfront.DistributionRestrictionsGeoRestrictionArgs{
			RestrictionType: pulumi.String(args.Geo.Type), Locations: pulumi.ToStringArray(args.Geo.Locations)}},
	}, parent, pulumi.DependsOn(logs.Settings)) // logging needs the bucket's ACLs enabled first
	if err != nil {
		return nil, fmt.Errorf("creating distribution: %w", err)
	}

	// Only this distribution may read the assets, signed through Origin Access Control.
	if _, err := s3bucket.Policy(ctx, name+"-assets", assets, pulumi.All(assets.Arn, dist.Arn).ApplyT(func(v []any) []iampolicy.Statement {
		return []iampolicy.Statement{{
			Sid: "CloudFrontOnly", Effect: "Allow", Principal: map[string]any{"Service": "cloudfront.amazonaws.com"},
			Action: []string{"s3:GetObject"}, Resource: v[0].(string) + "/*",
			Condition: iampolicy.Condition{"StringEquals": {"AWS:SourceArn": v[1].(string)}},
		}}
	}), parent); err != nil {
		return nil, err
	}

	// Viewers find the distribution by its aliases: A and AAAA alias records in the zone.
	if args.Route53ZoneID != nil {
		for _, d := range args.DomainNames {
			for _, typ := range []string{"A", "AAAA"} {
				logical := name + "-alias-" + strings.ToLower(typ) + "-" + strings.ReplaceAll(strings.ReplaceAll(d, "*", "wildcard"), ".", "-")
				if _, err := route53.NewRecord(ctx, logical, &route53.RecordArgs{
					ZoneId: args.Route53ZoneID, Name: pulumi.String(d), Type: pulumi.String(typ),
					// A record left by an earlier setup of the domain is taken over.
					AllowOverwrite: pulumi.Bool(true),
					Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
						Name: dist.DomainName, ZoneId: dist.HostedZoneId, EvaluateTargetHealth: pulumi.Bool(false),
					}},
				}, parent); err != nil {
					return nil, fmt.Errorf("creating the %s record of %s: %w", typ, d, err)
				}
			}
		}
	}

	if args.ShieldAdvanced {
		if _, err := shield.NewProtection(ctx, name, &shield.ProtectionArgs{Name: pulumi.String(name), ResourceArn: dist.Arn}, parent); err != nil {
			return nil, fmt.Errorf("enabling Shield Advanced: %w", err)
		}
	}

	c.DistributionID, c.DomainName, c.ARN = dist.ID().ToStringOutput(), dist.DomainName, dist.Arn
	c.AssetsBucket, c.OriginVerifySecret, c.ValidationRecords = assets.Bucket, pulumi.ToSecret(secret.Result).(pulumi.StringOutput), records
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"distributionId": c.DistributionID, "domainName": c.DomainName, "arn": c.ARN, "assetsBucket": c.AssetsBucket,
		"originVerifySecret": c.OriginVerifySecret, "validationRecords": c.ValidationRecords,
	})
}
