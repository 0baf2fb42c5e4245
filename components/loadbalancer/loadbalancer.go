// Package loadbalancer is the application's origin behind the CDN: an internet-facing
// Application Load Balancer that only CloudFront can reach (security groups admit CloudFront's
// origin-facing prefix list, and a listener rule forwards only requests that carry the CDN's
// secret header), HTTPS only with a regional ACM certificate and a TLS 1.3 policy, HTTP
// redirected, invalid headers dropped, access logs, a REGIONAL web ACL, and a DNS name in the
// stack's zone that the CDN connects to.
//
// Each route (a service and its path) gets two target groups, blue and green, that the AWS Load
// Balancer Controller fills with pod IPs (TargetGroupBinding); Forward then creates the rules
// that split each route's traffic between the colours by weight, after whatever the caller says
// must be ready first. Both colours' groups are always named by a rule no request matches, so
// their targets are health-checked before they take traffic. Changing weights updates rules in place: the load balancer, its
// listeners and target groups are never replaced by a release.
package loadbalancer

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/internal/dnscert"
	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/s3bucket"
	"github.com/scalemate/infra/internal/validate"
)

// Colours are the two target groups of every route.
var Colours = []string{"blue", "green"}

// Settings every load balancer gets.
const (
	// TLSPolicy allows TLS 1.3 and 1.2 with forward-secret ciphers only (AWS's recommended
	// policy for ALBs; FSBP ELB.17 asks for a TLS 1.2+ policy).
	TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	// CloudFrontPrefixList is the managed prefix list of CloudFront's origin-facing addresses.
	CloudFrontPrefixList = "com.amazonaws.global.cloudfront.origin-facing"
	// DefaultOriginVerifyHeader is the header CloudFront adds to every request it forwards.
	DefaultOriginVerifyHeader = "X-Origin-Verify"
	// maintenanceBody is what every route answers while no colour runs a version.
	maintenanceBody = `<!doctype html><title>ScaleMate: maintenance</title><h1>ScaleMate is being deployed</h1><p>Please try again in a few minutes.</p>`
)

// elbLogAccounts are the Elastic Load Balancing accounts that wrote access logs in the regions
// opened before August 2022. AWS now recommends the log delivery service principal in every
// region; the bucket policy admits both, so buckets set up either way keep receiving logs.
var elbLogAccounts = map[string]string{
	"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980", "us-west-2": "797873946194",
	"ca-central-1": "985666609251", "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
	"eu-west-3": "009996457667", "eu-north-1": "897822967062", "ap-northeast-1": "582318560864", "ap-southeast-1": "114774131450",
	"ap-southeast-2": "783225319266", "ap-south-1": "718504428378", "sa-east-1": "507241528517",
}

// Route is one service behind the load balancer.
type Route struct {
	// Name is the service's name (a DNS label of at most 12 characters); it names the target
	// groups and rules. Required.
	Name string
	// PathPattern is the request path the route takes (e.g. /api/*; /* takes what no other
	// route does). Required.
	PathPattern string
	// Port is the pods' port: targets are pod IPs on it. Required.
	Port int
	// HealthCheckPath answers 2xx when a pod can take traffic. Required.
	HealthCheckPath string
}

// Args configures a LoadBalancer.
type Args struct {
	// Region is the load balancer's region (it picks the access-log writer). Required.
	Region string
	// VPCID is the VPC of the load balancer and its targets. Required.
	VPCID pulumi.StringInput
	// SubnetIDs are public subnets in at least two AZs. Required.
	SubnetIDs pulumi.StringArrayInput
	// ZoneID is the public Route 53 zone that gets HostName and the certificate's validation
	// records. Required.
	ZoneID pulumi.StringInput
	// HostName is the load balancer's name in the zone, which the certificate covers and the
	// CDN connects to. Required.
	HostName string
	// OriginVerifyHeader is the header name the CDN adds. Default X-Origin-Verify.
	OriginVerifyHeader string
	// OriginVerifySecret is the header's value (a secret): requests without it are refused with
	// 403. Required.
	OriginVerifySecret pulumi.StringInput
	// WebACLARN is a REGIONAL WAF web ACL to associate. Required.
	WebACLARN pulumi.StringInput
	// TargetSecurityGroupID is the security group of the pods (on EKS, the cluster security
	// group): it admits the load balancer on the routes' ports. Required.
	TargetSecurityGroupID pulumi.StringInput
	// Routes are the services behind the load balancer, at least one.
	Routes []Route
	// IdleTimeoutSeconds closes idle connections, 1 to 4000. Default 60.
	IdleTimeoutSeconds int
	// DeregistrationDelaySeconds is how long a leaving pod keeps its in-flight requests, 0 to
	// 3600. Default 30.
	DeregistrationDelaySeconds int
	// DeletionProtection refuses deletion of the load balancer through the AWS API (production).
	DeletionProtection bool
	// LogExpirationDays deletes access logs after this many days. Default 30.
	LogExpirationDays int
	// Protect guards the log bucket against deletion by Pulumi and retains it (production).
	Protect bool
	// ForceDestroy lets a destroy delete the log bucket with its logs (dev).
	ForceDestroy bool
}

// LoadBalancer is the component resource.
type LoadBalancer struct {
	pulumi.ResourceState

	// ARN and ARNSuffix (the CloudWatch LoadBalancer dimension) identify the load balancer.
	ARN       pulumi.StringOutput `pulumi:"arn"`
	ARNSuffix pulumi.StringOutput `pulumi:"arnSuffix"`
	// DNSName is the load balancer's own name; HostName is its name in the zone (the CDN's
	// origin).
	DNSName  pulumi.StringOutput `pulumi:"dnsName"`
	HostName pulumi.StringOutput `pulumi:"hostName"`
	// SecurityGroupIDs are the load balancer's groups.
	SecurityGroupIDs pulumi.StringArrayOutput `pulumi:"securityGroupIds"`
	// TargetGroupARNs are the target groups by "<route>-<colour>".
	TargetGroupARNs pulumi.StringMapOutput `pulumi:"targetGroupArns"`
	// TargetGroupARNSuffixes are the CloudWatch TargetGroup dimensions by "<route>-<colour>".
	TargetGroupARNSuffixes pulumi.StringMapOutput `pulumi:"targetGroupArnSuffixes"`
	// LogBucket holds the access logs.
	LogBucket pulumi.StringOutput `pulumi:"logBucket"`

	name      string
	args      Args
	https     *lb.Listener
	groups    map[string]*lb.TargetGroup
	forwarded bool
}

var (
	routeNameRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$`)
	headerRE    = regexp.MustCompile(`^[A-Za-z0-9-]{1,40}$`)
)

func (a Args) withDefaults() Args {
	a.OriginVerifyHeader = cmp.Or(a.OriginVerifyHeader, DefaultOriginVerifyHeader)
	a.IdleTimeoutSeconds = cmp.Or(a.IdleTimeoutSeconds, 60)
	if a.DeregistrationDelaySeconds == 0 {
		a.DeregistrationDelaySeconds = 30
	}
	a.LogExpirationDays = cmp.Or(a.LogExpirationDays, 30)
	return a
}

// Check validates every setting except the inputs wired from other components.
func (a Args) Check(name string) error {
	var p validate.Problems
	a.check(&p, name)
	return p.Err(fmt.Sprintf("invalid loadbalancer args for %q", name))
}

func (a Args) check(p *validate.Problems, name string) {
	a = a.withDefaults()
	if _, ok := elbLogAccounts[a.Region]; !ok {
		p.Addf("Region", "%q is not a region this component knows the access-log writer of (%s)", a.Region, strings.Join(slices.Sorted(maps.Keys(elbLogAccounts)), ", "))
	}
	if !validate.IsHostName(a.HostName) {
		p.Addf("HostName", "%q is not a lower-case DNS name", a.HostName)
	}
	if !headerRE.MatchString(a.OriginVerifyHeader) {
		p.Addf("OriginVerifyHeader", "%q is not an HTTP header name (letters, digits, dashes; at most 40)", a.OriginVerifyHeader)
	}
	if len(a.Routes) == 0 {
		p.Addf("Routes", "at least one route is required")
	}
	// ALB listener rules take at most 5 condition values: the header plus one path.
	seen := map[string]bool{}
	for i, r := range a.Routes {
		f := fmt.Sprintf("Routes[%d]", i)
		if !routeNameRE.MatchString(r.Name) {
			p.Addf(f+".Name", "%q is not a DNS label of at most 12 characters (it names target groups, whose names AWS limits to 32)", r.Name)
		}
		if seen[r.Name] {
			p.Addf(f+".Name", "%q is listed twice", r.Name)
		}
		seen[r.Name] = true
		if !validate.IsPathPattern(r.PathPattern) {
			p.Addf(f+".PathPattern", "%q is not a path pattern (starts with /, at most 128 characters)", r.PathPattern)
		}
		if slices.IndexFunc(a.Routes, func(o Route) bool { return o.PathPattern == r.PathPattern }) != i {
			p.Addf(f+".PathPattern", "%q is also an earlier route's", r.PathPattern)
		} else if j := slices.IndexFunc(a.Routes, func(o Route) bool { return priority(o) == priority(r) }); j != i {
			p.Addf(f+".Name", "%q gets the same rule priority as %q (paths of one length, names that hash alike); rename one", r.Name, a.Routes[j].Name)
		}
		p.IntRange(f+".Port", r.Port, 1, 65535)
		if !validate.IsHTTPPath(r.HealthCheckPath) {
			p.Addf(f+".HealthCheckPath", "%q is not an HTTP path (starts with /, at most 1024 characters)", r.HealthCheckPath)
		}
	}
	p.IntRange("IdleTimeoutSeconds", a.IdleTimeoutSeconds, 1, 4000)
	p.IntRange("DeregistrationDelaySeconds", a.DeregistrationDelaySeconds, 0, 3600)
	p.IntRange("LogExpirationDays", a.LogExpirationDays, 1, 3653)
	// Pulumi names the load balancer <name>-<7 random characters>; AWS allows 32.
	if len(name) > maxLogicalName {
		p.Addf("name", "%q is longer than %d characters: the load balancer's name (plus Pulumi's 8-character suffix) would exceed AWS's 32", name, maxLogicalName)
	}
}

// maxLogicalName is the longest logical name whose autoname (plus "-" and 7 random
// characters) fits the 32 characters AWS allows load balancers and target groups; Pulumi does
// not shorten autonames.
const maxLogicalName = 32 - 8

// targetGroupLogical is a target group's logical name: <name>-<route>-<colour>, the name cut
// short so the whole fits maxLogicalName (route names are at most 12 characters).
func targetGroupLogical(name, route, colour string) string {
	suffix := "-" + route + "-" + colour
	if room := maxLogicalName - len(suffix); len(name) > room {
		name = strings.TrimRight(name[:max(room, 0)], "-")
	}
	return strings.TrimLeft(name+suffix, "-")
}

// New creates the load balancer, its target groups and listeners. The routes forward nothing
// until Forward is called.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*LoadBalancer, error) {
	var p validate.Problems
	for _, in := range []struct {
		field string
		set   bool
	}{
		{"VPCID", args.VPCID != nil}, {"SubnetIDs", args.SubnetIDs != nil}, {"ZoneID", args.ZoneID != nil},
		{"OriginVerifySecret", args.OriginVerifySecret != nil}, {"WebACLARN", args.WebACLARN != nil},
		{"TargetSecurityGroupID", args.TargetSecurityGroupID != nil},
	} {
		if !in.set {
			p.Addf(in.field, "must be set")
		}
	}
	args.check(&p, name)
	if err := p.Err(fmt.Sprintf("invalid loadbalancer args for %q", name)); err != nil {
		return nil, err
	}
	args = args.withDefaults()
	l := &LoadBalancer{name: name, args: args, groups: map[string]*lb.TargetGroup{}}
	if err := ctx.RegisterComponentResource("scalemate:loadbalancer:LoadBalancer", name, l, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(l)

	groups, err := l.securityGroups(ctx, parent)
	if err != nil {
		return nil, err
	}
	logs, err := accessLogBucket(ctx, name, args, parent)
	if err != nil {
		return nil, err
	}
	alb, err := lb.NewLoadBalancer(ctx, name, &lb.LoadBalancerArgs{
		LoadBalancerType:         pulumi.String("application"),
		Internal:                 pulumi.Bool(false),
		IpAddressType:            pulumi.String("ipv4"),
		Subnets:                  args.SubnetIDs,
		SecurityGroups:           groups,
		DropInvalidHeaderFields:  pulumi.Bool(true),
		DesyncMitigationMode:     pulumi.String("strictest"),
		EnableHttp2:              pulumi.Bool(true),
		IdleTimeout:              pulumi.Int(args.IdleTimeoutSeconds),
		EnableDeletionProtection: pulumi.Bool(args.DeletionProtection),
		// X-Forwarded-For carries the viewer's address as CloudFront passed it.
		XffHeaderProcessingMode: pulumi.String("append"),
		AccessLogs: lb.LoadBalancerAccessLogsArgs{
			Bucket: logs.Bucket, Prefix: pulumi.String(name), Enabled: pulumi.Bool(true),
		},
	}, append([]pulumi.ResourceOption{parent}, pulumi.DependsOn(logs.Settings))...) // the log writer's grant first
	if err != nil {
		return nil, fmt.Errorf("creating load balancer: %w", err)
	}

	// Replaced delete-first: creating the new association before deleting the old one leaves
	// the load balancer with none (pulumi-aws #4782).
	if _, err := wafv2.NewWebAclAssociation(ctx, name, &wafv2.WebAclAssociationArgs{
		ResourceArn: alb.Arn, WebAclArn: args.WebACLARN,
	}, parent, pulumi.DeleteBeforeReplace(true)); err != nil {
		return nil, fmt.Errorf("associating the web ACL: %w", err)
	}

	cert, err := dnscert.New(ctx, name, dnscert.Args{DomainNames: []string{args.HostName}, ZoneID: args.ZoneID}, parent)
	if err != nil {
		return nil, err
	}
	record, err := route53.NewRecord(ctx, name, &route53.RecordArgs{
		ZoneId: args.ZoneID, Name: pulumi.String(args.HostName), Type: pulumi.String("A"),
		Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
			Name: alb.DnsName, ZoneId: alb.ZoneId, EvaluateTargetHealth: pulumi.Bool(false),
		}},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the origin record %s: %w", args.HostName, err)
	}

	if err := l.targetGroups(ctx, parent); err != nil {
		return nil, err
	}
	if err := l.listeners(ctx, alb, cert.ARN, parent); err != nil {
		return nil, err
	}
	if err := l.keepGroupsInUse(ctx, parent); err != nil {
		return nil, err
	}

	arns, suffixes := pulumi.StringMap{}, pulumi.StringMap{}
	for key, tg := range l.groups {
		arns[key], suffixes[key] = tg.Arn, tg.ArnSuffix
	}
	l.ARN, l.ARNSuffix, l.DNSName, l.HostName = alb.Arn, alb.ArnSuffix, alb.DnsName, record.Fqdn
	l.SecurityGroupIDs = alb.SecurityGroups
	l.TargetGroupARNs, l.TargetGroupARNSuffixes = arns.ToStringMapOutput(), suffixes.ToStringMapOutput()
	l.LogBucket = logs.Bucket
	return l, ctx.RegisterResourceOutputs(l, pulumi.Map{
		"arn": l.ARN, "arnSuffix": l.ARNSuffix, "dnsName": l.DNSName, "hostName": l.HostName,
		"securityGroupIds": l.SecurityGroupIDs, "targetGroupArns": l.TargetGroupARNs,
		"targetGroupArnSuffixes": l.TargetGroupARNSuffixes, "logBucket": l.LogBucket,
	})
}

// securityGroups admit CloudFront's origin-facing addresses, HTTPS and HTTP (redirected) each in
// a group of its own: the prefix list counts as about 55 rules against a group's quota of 60,
// so two rules referencing it cannot share a group. Egress reaches the targets only.
func (l *LoadBalancer) securityGroups(ctx *pulumi.Context, parent pulumi.ResourceOption) (pulumi.StringArray, error) {
	cloudfront := ec2.LookupManagedPrefixListOutput(ctx, ec2.LookupManagedPrefixListOutputArgs{
		Name: pulumi.String(CloudFrontPrefixList),
	}, pulumi.Parent(l)) // the parent's provider: the load balancer's region
	var ids pulumi.StringArray
	for _, port := range []int{443, 80} {
		logical := fmt.Sprintf("%s-%d", l.name, port)
		sg, err := ec2.NewSecurityGroup(ctx, logical, &ec2.SecurityGroupArgs{
			VpcId:       l.args.VPCID,
			Description: pulumi.Sprintf("%s load balancer: port %d from CloudFront only", l.name, port),
			// No inline rules: every rule is a resource of its own below (inline and separate
			// rules overwrite each other). The provider removes AWS's default allow-all egress.
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating security group %s: %w", logical, err)
		}
		if _, err := ec2.NewSecurityGroupRule(ctx, logical+"-cloudfront", &ec2.SecurityGroupRuleArgs{
			Type: pulumi.String("ingress"), SecurityGroupId: sg.ID(), Protocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(port), ToPort: pulumi.Int(port), PrefixListIds: pulumi.StringArray{cloudfront.Id()},
			Description: pulumi.String("CloudFront origin-facing addresses"),
		}, parent); err != nil {
			return nil, fmt.Errorf("admitting CloudFront to %s: %w", logical, err)
		}
		ids = append(ids, sg.ID())
		if port != 443 {
			continue
		}
		// The HTTPS group also carries the way to the targets, one port per distinct port.
		for _, target := range l.targetPorts() {
			if _, err := ec2.NewSecurityGroupRule(ctx, fmt.Sprintf("%s-to-targets-%d", l.name, target), &ec2.SecurityGroupRuleArgs{
				Type: pulumi.String("egress"), SecurityGroupId: sg.ID(), Protocol: pulumi.String("tcp"),
				FromPort: pulumi.Int(target), ToPort: pulumi.Int(target), SourceSecurityGroupId: l.args.TargetSecurityGroupID,
				Description: pulumi.String("to the pods (traffic and health checks)"),
			}, parent); err != nil {
				return nil, fmt.Errorf("letting %s reach the targets: %w", logical, err)
			}
			if _, err := ec2.NewSecurityGroupRule(ctx, fmt.Sprintf("%s-from-lb-%d", l.name, target), &ec2.SecurityGroupRuleArgs{
				Type: pulumi.String("ingress"), SecurityGroupId: l.args.TargetSecurityGroupID, Protocol: pulumi.String("tcp"),
				FromPort: pulumi.Int(target), ToPort: pulumi.Int(target), SourceSecurityGroupId: sg.ID(),
				Description: pulumi.Sprintf("%s load balancer to pods", l.name),
			}, parent); err != nil {
				return nil, fmt.Errorf("admitting %s to the targets: %w", logical, err)
			}
		}
	}
	return ids, nil
}

// targetPorts are the routes' distinct ports, sorted.
func (l *LoadBalancer) targetPorts() []int {
	var ports []int
	for _, r := range l.args.Routes {
		if !slices.Contains(ports, r.Port) {
			ports = append(ports, r.Port)
		}
	}
	slices.Sort(ports)
	return ports
}

// accessLogBucket is the access logs' bucket: SSE-S3 (the only encryption ALB log delivery
// supports), writable by the region's Elastic Load Balancing log writer only.
func accessLogBucket(ctx *pulumi.Context, name string, args Args, parent pulumi.ResourceOption) (*s3bucket.Bucket, error) {
	bucket, err := s3bucket.New(ctx, name+"-logs", s3bucket.Args{
		Prefix: name + "-alb-logs-", ExpireDays: args.LogExpirationDays, Protect: args.Protect, DeferPolicy: true,
		ForceDestroy: args.ForceDestroy,
	}, parent)
	if err != nil {
		return nil, err
	}
	account := elbLogAccounts[args.Region]
	grants := bucket.Arn.ApplyT(func(arn string) []iampolicy.Statement {
		objects := arn + "/" + name + "/AWSLogs/*"
		return []iampolicy.Statement{
			{Sid: "ELBLogWriter", Effect: "Allow", Principal: map[string]any{"AWS": "arn:" + iampolicy.Partition(args.Region) + ":iam::" + account + ":root"},
				Action: []string{"s3:PutObject"}, Resource: objects},
			{Sid: "ELBLogDelivery", Effect: "Allow", Principal: map[string]any{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
				Action: []string{"s3:PutObject"}, Resource: objects},
		}
	})
	policy, err := s3bucket.Policy(ctx, name+"-logs", bucket, grants, parent)
	if err != nil {
		return nil, err
	}
	// AWS writes a test object when logging is turned on: the grant must exist first.
	bucket.Settings = append(bucket.Settings, policy)
	return bucket, nil
}

// targetGroups creates each route's blue and green target groups (IP targets: pods).
func (l *LoadBalancer) targetGroups(ctx *pulumi.Context, parent pulumi.ResourceOption) error {
	for _, r := range l.args.Routes {
		for _, colour := range Colours {
			logical := targetGroupLogical(l.name, r.Name, colour)
			tg, err := lb.NewTargetGroup(ctx, logical, &lb.TargetGroupArgs{
				VpcId: l.args.VPCID, TargetType: pulumi.String("ip"), IpAddressType: pulumi.String("ipv4"),
				Port: pulumi.Int(r.Port), Protocol: pulumi.String("HTTP"), ProtocolVersion: pulumi.String("HTTP1"),
				DeregistrationDelay: pulumi.Int(l.args.DeregistrationDelaySeconds),
				HealthCheck: lb.TargetGroupHealthCheckArgs{
					Enabled: pulumi.Bool(true), Path: pulumi.String(r.HealthCheckPath), Port: pulumi.String("traffic-port"),
					Protocol: pulumi.String("HTTP"), Matcher: pulumi.String("200-299"),
					Interval: pulumi.Int(10), Timeout: pulumi.Int(5), HealthyThreshold: pulumi.Int(2), UnhealthyThreshold: pulumi.Int(3),
				},
			}, parent)
			if err != nil {
				return fmt.Errorf("creating target group %s: %w", logical, err)
			}
			l.groups[r.Name+"-"+colour] = tg
		}
	}
	return nil
}

// listeners: HTTPS answers 403 unless a rule matches (Forward adds them); HTTP redirects.
func (l *LoadBalancer) listeners(ctx *pulumi.Context, alb *lb.LoadBalancer, cert pulumi.StringOutput, parent pulumi.ResourceOption) error {
	https, err := lb.NewListener(ctx, l.name+"-https", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn, Port: pulumi.Int(443), Protocol: pulumi.String("HTTPS"),
		SslPolicy: pulumi.String(TLSPolicy), CertificateArn: cert,
		DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("fixed-response"),
			FixedResponse: lb.ListenerDefaultActionFixedResponseArgs{
				StatusCode: pulumi.String("403"), ContentType: pulumi.String("text/plain"),
				MessageBody: pulumi.String("Forbidden: this origin is reached through the CDN."),
			},
		}},
	}, parent)
	if err != nil {
		return fmt.Errorf("creating HTTPS listener: %w", err)
	}
	if _, err := lb.NewListener(ctx, l.name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn, Port: pulumi.Int(80), Protocol: pulumi.String("HTTP"),
		DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: lb.ListenerDefaultActionRedirectArgs{
				Protocol: pulumi.String("HTTPS"), Port: pulumi.String("443"), StatusCode: pulumi.String("HTTP_301"),
			},
		}},
	}, parent); err != nil {
		return fmt.Errorf("creating HTTP listener: %w", err)
	}
	l.https = https
	return nil
}

// Rule priorities are stable: a route's priority follows from its own path and name only, so
// adding or removing a route never renumbers the others (the ALB changes one rule's priority at
// a time, and a renumbering collides with rules that have not moved yet). Longer patterns come
// first; the hash orders patterns of equal length.
const (
	keepAliveBand = 20000
	maxPathLength = 128
)

// priority is a route's traffic rule priority: (129 - len(pattern)) * 100 + hash(name) % 100
// (so at least 100: ALB priorities start at 1), and the catch-all /* after every other route.
// Renaming a route is two changes: the new rule is created before the old one goes, and their
// priorities may collide.
func priority(r Route) int {
	if r.PathPattern == "/*" {
		return maxPathLength*100 + 99
	}
	h := fnv.New32a()
	h.Write([]byte(r.Name))
	return (maxPathLength+1-len(r.PathPattern))*100 + int(h.Sum32()%100)
}

// keepGroupsInUse gives every route a rule that no request matches (a header with a random,
// secret value that CloudFront never sends), forwarding to both colours.
// A target group that no rule names is not health-checked: its targets stay "unused", the load
// balancer controller's readiness gate never passes, and a colour's rollout (which the traffic
// rule waits for) would never finish. These rules exist from the start, before any rollout.
func (l *LoadBalancer) keepGroupsInUse(ctx *pulumi.Context, parent pulumi.ResourceOption) error {
	never, err := random.NewRandomId(ctx, l.name+"-keep-alive", &random.RandomIdArgs{ByteLength: pulumi.Int(16)}, parent)
	if err != nil {
		return fmt.Errorf("generating the keep-alive header value: %w", err)
	}
	for _, r := range l.args.Routes {
		var groups lb.ListenerRuleActionForwardTargetGroupArray
		for _, c := range Colours {
			groups = append(groups, lb.ListenerRuleActionForwardTargetGroupArgs{Arn: l.groups[r.Name+"-"+c].Arn, Weight: pulumi.Int(1)})
		}
		logical := l.name + "-" + r.Name + "-keep-alive"
		if _, err := lb.NewListenerRule(ctx, logical, &lb.ListenerRuleArgs{
			ListenerArn: l.https.Arn,
			Priority:    pulumi.Int(keepAliveBand + priority(r)),
			Actions:     lb.ListenerRuleActionArray{lb.ListenerRuleActionArgs{Type: pulumi.String("forward"), Forward: lb.ListenerRuleActionForwardArgs{TargetGroups: groups}}},
			Conditions: lb.ListenerRuleConditionArray{lb.ListenerRuleConditionArgs{HttpHeader: lb.ListenerRuleConditionHttpHeaderArgs{
				HttpHeaderName: pulumi.String("X-Scalemate-Keep-Alive"), Values: pulumi.StringArray{pulumi.ToSecret(never.Hex).(pulumi.StringOutput)},
			}}},
		}, parent); err != nil {
			return fmt.Errorf("creating listener rule %s: %w", logical, err)
		}
	}
	return nil
}

// originCondition matches requests that carry the CDN's secret header.
func (l *LoadBalancer) originCondition() lb.ListenerRuleConditionArgs {
	return lb.ListenerRuleConditionArgs{HttpHeader: lb.ListenerRuleConditionHttpHeaderArgs{
		HttpHeaderName: pulumi.String(l.args.OriginVerifyHeader),
		Values:         pulumi.StringArray{l.args.OriginVerifySecret},
	}}
}

// Forward creates the listener rules: each route's requests that carry the CDN's header go to
// its blue and green target groups by weights (percent per colour, summing to 100), or, when
// both weights are zero, get the maintenance page. The rules wait for after (the new colour's
// rollout and migrations), so traffic moves only to what is ready.
func (l *LoadBalancer) Forward(ctx *pulumi.Context, weights map[string]int, after []pulumi.Resource) error {
	if l.forwarded {
		return fmt.Errorf("loadbalancer %s: Forward called twice", l.name)
	}
	var p validate.Problems
	total := 0
	for _, c := range slices.Sorted(maps.Keys(weights)) {
		if !slices.Contains(Colours, c) {
			p.Addf("weights", "%q is not a colour; use %s", c, strings.Join(Colours, ", "))
		}
		p.IntRange("weights["+c+"]", weights[c], 0, 100)
		total += weights[c]
	}
	if total != 0 && total != 100 {
		p.Addf("weights", "add up to %d; they must add up to 100 (or 0 for the maintenance page)", total)
	}
	if err := p.Err(fmt.Sprintf("invalid weights for loadbalancer %q", l.name)); err != nil {
		return err
	}
	l.forwarded = true
	opts := []pulumi.ResourceOption{pulumi.Parent(l), pulumi.DependsOn(after)}
	for _, r := range l.args.Routes {
		action := lb.ListenerRuleActionArgs{
			Type: pulumi.String("fixed-response"),
			FixedResponse: lb.ListenerRuleActionFixedResponseArgs{
				StatusCode: pulumi.String("503"), ContentType: pulumi.String("text/html"), MessageBody: pulumi.String(maintenanceBody),
			},
		}
		if total > 0 {
			var groups lb.ListenerRuleActionForwardTargetGroupArray
			for _, c := range Colours {
				// Both colours stay in the action, the idle one at weight 0: its targets keep being
				// health-checked, so its pods' readiness gates can pass before it gets traffic.
				groups = append(groups, lb.ListenerRuleActionForwardTargetGroupArgs{
					Arn: l.groups[r.Name+"-"+c].Arn, Weight: pulumi.Int(weights[c]),
				})
			}
			action = lb.ListenerRuleActionArgs{
				Type:    pulumi.String("forward"),
				Forward: lb.ListenerRuleActionForwardArgs{TargetGroups: groups},
			}
		}
		conditions := lb.ListenerRuleConditionArray{l.originCondition()}
		if r.PathPattern != "/*" {
			conditions = append(conditions, lb.ListenerRuleConditionArgs{
				PathPattern: lb.ListenerRuleConditionPathPatternArgs{Values: pulumi.StringArray{pulumi.String(r.PathPattern)}},
			})
		}
		logical := l.name + "-" + r.Name
		if _, err := lb.NewListenerRule(ctx, logical, &lb.ListenerRuleArgs{
			ListenerArn: l.https.Arn,
			Priority:    pulumi.Int(priority(r)),
			Actions:     lb.ListenerRuleActionArray{action},
			Conditions:  conditions,
		}, opts...); err != nil {
			return fmt.Errorf("creating listener rule %s: %w", logical, err)
		}
	}
	return nil
}
