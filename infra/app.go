package infra

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/scalemate/infra/components/app"
	"github.com/scalemate/infra/components/cdn"
	"github.com/scalemate/infra/components/cluster"
	"github.com/scalemate/infra/components/k8sbaseline"
	"github.com/scalemate/infra/components/loadbalancer"
	"github.com/scalemate/infra/components/network"
	"github.com/scalemate/infra/components/postgres"
	"github.com/scalemate/infra/components/redis"
	"github.com/scalemate/infra/components/registry"
	"github.com/scalemate/infra/components/waf"
	"github.com/scalemate/infra/internal/iampolicy"
	"github.com/scalemate/infra/internal/netplan"
	"github.com/scalemate/infra/stacks"
)

// DatabaseClientImage runs the Job that creates the application's database user: the official
// PostgreSQL image from ECR Public, pinned by digest (16.10-alpine; its psql speaks to every
// supported engine version). Check it resolves (crane digest) before raising it.
const DatabaseClientImage = "public.ecr.aws/docker/library/postgres:16.10-alpine@sha256:029660641a0cfc575b14f336ba448fb8a75fd595d42e1fa316b9fb4378742297"

// Secrets the program itself provides to the application.
const (
	secretPostgres = "postgres"
	secretRedis    = "redis"
)

// application holds the load balancer's, the origin's WAF's and the workloads' settings.
type application struct {
	name         string
	loadBalancer loadbalancer.Args
	originWAF    waf.Args
	app          app.Args
}

// planApp turns the Spec into the application layer's args and checks them before anything
// exists.
func planApp(spec *stacks.Spec) (*application, error) {
	prefix := spec.Project + "-" + spec.Stack
	r := &refusals{stack: spec.Stack}
	vpc, err := netip.ParsePrefix(spec.Network.CIDR)
	if err != nil {
		r.merge(fmt.Errorf("%s.cidr: %w", stacks.KeyNetwork, err))
		return nil, r
	}
	plan, err := netplan.Subnets(vpc, len(spec.AvailabilityZones()), spec.Network.SubnetPrefixes)
	if err != nil {
		r.merge(fmt.Errorf("%s.subnetPrefixes: %w", stacks.KeyNetwork, err))
		return nil, r
	}
	cidrs := func(ps []netip.Prefix) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.String())
		}
		return out
	}
	a := spec.App
	out := &application{name: prefix, app: workloads(spec, spec.Cluster.Version)}
	out.app.Region, out.app.LoadBalancerCIDRs, out.app.DataCIDRs = spec.Region, cidrs(plan.Public), cidrs(plan.Isolated)
	out.app.DatabasePort, out.app.CachePort = postgres.Port, redis.Port
	// Dev re-reads secrets often so a rotation is seen quickly while testing it.
	out.app.SecretRefreshInterval = map[stacks.Tier]string{stacks.Dev: "5m", stacks.Staging: "15m", stacks.Prod: "15m"}[spec.Tier]
	for _, name := range a.ServiceNames() {
		s := a.Services[name]
		if s.Route != "" {
			out.loadBalancer.Routes = append(out.loadBalancer.Routes, loadbalancer.Route{
				Name: name, PathPattern: s.Route, Port: s.Port, HealthCheckPath: s.ReadinessPath,
			})
		}
	}
	lb := &out.loadBalancer
	lb.Region, lb.HostName = spec.Region, spec.Edge.Origin()
	lb.DeletionProtection, lb.Protect, lb.ForceDestroy = spec.Tier != stacks.Dev, spec.Tier == stacks.Prod, spec.Tier == stacks.Dev
	lb.LogExpirationDays = spec.LogRetentionDays
	// The origin's ACL inspects content only; the distribution's ACL judges viewers' addresses.
	// Its logs never show the CDN's secret header (sampled requests cannot redact it: off).
	out.originWAF = waf.Args{Scope: "REGIONAL", Action: spec.Edge.WAF.Action, BehindCloudFront: true, LogRetentionDays: spec.LogRetentionDays,
		RedactHeaders: []string{strings.ToLower(cdn.OriginVerifyHeader)}}

	services, routes := serviceKeys(out.app), map[string]string{}
	for i, rt := range out.loadBalancer.Routes {
		routes[fmt.Sprintf("Routes[%d].PathPattern", i)] = stacks.KeyApp + ".services." + rt.Name + ".route"
		routes[fmt.Sprintf("Routes[%d].HealthCheckPath", i)] = stacks.KeyApp + ".services." + rt.Name + ".readinessPath"
		routes[fmt.Sprintf("Routes[%d]", i)] = stacks.KeyApp + ".services." + rt.Name
	}
	routes["HostName"] = stacks.KeyEdge + ".originHostName"
	r.component(out.loadBalancer.Check(prefix), stacks.KeyApp, withCommon(routes))
	r.component(out.originWAF.Check(prefix+"-origin"), stacks.KeyEdge+".waf", withCommon(nil))
	r.component(out.app.Check(prefix), stacks.KeyApp, withCommon(services))
	if err := r.err(); err != nil {
		return out, err
	}
	return out, nil
}

// workloads are the application's args every tier shares: the services, the release and the
// database-users Job (Pod Security pinned to version); the tier adds where the data and the
// secrets are.
func workloads(spec *stacks.Spec, version string) app.Args {
	a := spec.App
	versions := map[string]string{}
	for _, c := range stacks.Colours {
		versions[c] = a.Release.Version(c)
	}
	out := app.Args{
		Namespace: AppNamespace, Active: a.Release.Active, Versions: versions,
		DatabaseUsers: &app.DatabaseUsers{Image: DatabaseClientImage, NamespaceLabels: k8sbaseline.PodSecurityLabels(version)},
	}
	for _, name := range a.ServiceNames() {
		s := a.Services[name]
		svc := app.Service{
			Name: name, Image: s.Image, Port: s.Port, Command: s.Command, Args: s.Args, Env: s.Env,
			ReadinessPath: s.ReadinessPath, LivenessPath: s.LivenessPath,
			CPU: s.CPU, Memory: s.Memory, CPULimit: s.CPULimit, MemoryLimit: s.MemoryLimit,
			MinReplicas: s.MinReplicas, MaxReplicas: s.MaxReplicas,
			Secrets: s.Secrets, Routed: s.Route != "", Peers: s.Peers, Migrate: s.Migrate,
		}
		for _, secret := range s.Secrets {
			svc.ReadsDatabase = svc.ReadsDatabase || secret == secretPostgres
			svc.ReadsCache = svc.ReadsCache || secret == secretRedis
		}
		out.Services = append(out.Services, svc)
	}
	return out
}

// serviceKeys name the app component's fields in config words: the services are a list in the
// component and a map by name in the config.
func serviceKeys(a app.Args) map[string]string {
	keys := map[string]string{"Active": stacks.KeyApp + ".release.active"}
	for i, svc := range a.Services {
		keys[fmt.Sprintf("Services[%d]", i)] = stacks.KeyApp + ".services." + svc.Name
	}
	for _, c := range stacks.Colours {
		keys["Versions["+c+"]"] = stacks.KeyApp + ".release." + c + ".version"
	}
	return keys
}

// zoneID is the stack's public zone: configured, or looked up by name.
func zoneID(ctx *pulumi.Context, spec *stacks.Spec, p *Providers) pulumi.StringInput {
	if id := spec.Edge.Route53ZoneID; id != "" {
		return pulumi.String(id)
	}
	return route53.LookupZoneOutput(ctx, route53.LookupZoneOutputArgs{
		Name: pulumi.String(spec.Edge.ZoneName), PrivateZone: pulumi.Bool(false),
	}, pulumi.Provider(p.AWS)).ZoneId()
}

// deployApp creates the load balancer and its web ACL, the workloads, and last the listener
// rules that move traffic once the workloads are ready.
func deployApp(ctx *pulumi.Context, spec *stacks.Spec, a *application, p *Providers, zone pulumi.StringInput, net *network.Network,
	cl *cluster.Cluster, db *dataOutputs, reg *registry.Registry, base *k8sbaseline.Baseline, originVerify pulumi.StringInput,
) (*loadbalancer.LoadBalancer, *app.App, error) {
	onAWS := pulumi.Providers(p.AWS)
	acl, err := waf.New(ctx, a.name+"-origin", a.originWAF, onAWS)
	if err != nil {
		return nil, nil, err
	}
	lbArgs := a.loadBalancer
	lbArgs.VPCID, lbArgs.SubnetIDs, lbArgs.ZoneID = net.VPCID, net.PublicSubnetIDs, zone
	lbArgs.OriginVerifySecret, lbArgs.WebACLARN, lbArgs.TargetSecurityGroupID = originVerify, acl.WebACLARN, cl.SecurityGroupID
	lb, err := loadbalancer.New(ctx, a.name, lbArgs, onAWS)
	if err != nil {
		return nil, nil, err
	}

	appArgs := a.app
	appArgs.OIDCProviderARN, appArgs.OIDCIssuerURL = cl.OIDCProviderARN, cl.OIDCIssuerURL
	appArgs.Images, appArgs.TargetGroupARNs = reg.RepositoryURLs, lb.TargetGroupARNs
	appArgs.ConfigMapName, appArgs.PriorityClassName = base.AppConfigMap, base.AppPriorityClass
	appArgs.Ready = base.Ready
	users := *appArgs.DatabaseUsers
	users.MasterSecret = app.Secret{Name: db.postgres.SecretARN, ARN: db.postgres.SecretARN}
	users.Host, users.DBName = db.postgres.WriterEndpoint, db.postgres.DatabaseName
	users.App, users.Revision = db.postgres.AppLogin, db.postgres.LoginRevision
	appArgs.DatabaseUsers = &users
	appArgs.Secrets = map[string]app.Secret{
		secretPostgres: {Name: db.postgres.AppSecretARN, ARN: db.postgres.AppSecretARN},
		secretRedis:    {Name: db.redis.SecretARN, ARN: db.redis.SecretARN},
	}
	if len(spec.App.Secrets) > 0 {
		// Secrets the stack names but does not own: IAM grants their names' ARN pattern
		// (Secrets Manager appends six random characters to every ARN).
		caller := aws.GetCallerIdentityOutput(ctx, aws.GetCallerIdentityOutputArgs{}, pulumi.Provider(p.AWS))
		for short, name := range spec.App.Secrets {
			arn := pulumi.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-??????", iampolicy.Partition(spec.Region), spec.Region, caller.AccountId(), name)
			appArgs.Secrets[short] = app.Secret{Name: pulumi.String(name), ARN: arn}
		}
	}
	workloads, err := app.New(ctx, a.name+"-app", appArgs, pulumi.Providers(p.AWS, cl.Provider))
	if err != nil {
		return nil, nil, err
	}
	if err := lb.Forward(ctx, spec.App.Release.Weights(), workloads.Ready); err != nil {
		return nil, nil, err
	}
	return lb, workloads, nil
}
