package stacks

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/scalemate/infra/internal/validate"
)

// App is what the platform runs for the application (scalemate:app).
type App struct {
	// Images are the ECR repositories of the application's images. Default api, web, worker.
	Images []string `json:"images"`
	// FeatureFlags go into the application's ConfigMap as FEATURE_<NAME>; nothing secret.
	FeatureFlags map[string]string `json:"featureFlags,omitempty"`
	// Services are the application's workloads by name; when set, the list is complete.
	// Default api (routed at /api/*), web (routed at /*) and worker (not routed).
	Services map[string]Service `json:"services,omitempty"`
	// Secrets are further Secrets Manager entries the services may read, by the short name a
	// service lists in its secrets (API keys, webhooks): short name -> Secrets Manager name.
	// "postgres" (the application's database user) and "redis" (the cache AUTH token) are
	// built in. Default none.
	Secrets map[string]string `json:"secrets,omitempty"`
	// Release is which colour serves and what each colour runs.
	Release Release `json:"release"`
}

// Service is one workload of the application (an entry of scalemate:app.services).
type Service struct {
	// Image is the service's ECR repository, one of images. Default the service's name.
	Image string `json:"image,omitempty"`
	// Port is the container's HTTP port (traffic and health checks). Default 8080.
	Port int `json:"port,omitempty"`
	// Command and Args override the image's entrypoint and arguments. Default the image's.
	Command []string `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
	// Env are plain environment variables (nothing secret: secrets are files, see secrets).
	Env map[string]string `json:"env,omitempty"`
	// ReadinessPath is the HTTP path that answers 2xx when the pod can take traffic; the load
	// balancer's health check uses it too. Required.
	ReadinessPath string `json:"readinessPath"`
	// LivenessPath answers 2xx while the process is sound (a failure restarts the container).
	// Default ReadinessPath.
	LivenessPath string `json:"livenessPath,omitempty"`
	// CPU and Memory are the container's requests; CPULimit and MemoryLimit its limits.
	// Default 250m / 256Mi, limits 1 / 512Mi.
	CPU         string `json:"cpu,omitempty"`
	Memory      string `json:"memory,omitempty"`
	CPULimit    string `json:"cpuLimit,omitempty"`
	MemoryLimit string `json:"memoryLimit,omitempty"`
	// MinReplicas and MaxReplicas bound the autoscaler, per colour. Default 1-2 dev, 2-4
	// staging, 3-12 prod.
	MinReplicas int `json:"minReplicas,omitempty"`
	MaxReplicas int `json:"maxReplicas,omitempty"`
	// Secrets are what the service reads, as files under /var/run/secrets/scalemate/<name>:
	// postgres, redis, or a short name of scalemate:app.secrets. Default none.
	Secrets []string `json:"secrets,omitempty"`
	// Route is the path pattern the load balancer forwards to this service (e.g. /api/*, or
	// /* for the catch-all). Default none: the service is not reachable from outside.
	Route string `json:"route,omitempty"`
	// Peers are the services that may call this one inside the cluster. Default none.
	Peers []string `json:"peers,omitempty"`
	// Migrate is the command of the database migration Job that runs with a colour's new
	// version before any traffic moves to it. Default none.
	Migrate []string `json:"migrate,omitempty"`
}

// Release is the blue/green state of the application (scalemate:app.release).
type Release struct {
	// Active is the colour that takes the traffic: blue or green. Default blue.
	Active string `json:"active"`
	// Blue and Green are what each colour runs; a colour without a version runs nothing.
	Blue  Colour `json:"blue"`
	Green Colour `json:"green"`
	// CanaryPercent is the share of traffic the other colour takes, 0 to 100 (100 moves all
	// traffic before active is flipped). Default 0.
	CanaryPercent int `json:"canaryPercent"`
}

// Colour is what one colour of the release runs.
type Colour struct {
	// Version is the image tag (v1.2.3 or sha-<git sha>, both kept by the repositories'
	// lifecycle rules) or digest (sha256:...) every service of the colour runs. Default none.
	Version string `json:"version,omitempty"`
}

// Colours of a release, in a stable order.
var Colours = []string{"blue", "green"}

// Version is the version a colour runs ("" for none).
func (r Release) Version(colour string) string {
	if colour == "green" {
		return r.Green.Version
	}
	return r.Blue.Version
}

// Other is the colour that is not active.
func (r Release) Other() string {
	if r.Active == "green" {
		return "blue"
	}
	return "green"
}

// Weights are each colour's share of the traffic, in percent: the active colour's complement
// of the canary, the other colour's canary. Both are zero when no colour runs a version
// (the load balancer then answers with its maintenance page).
func (r Release) Weights() map[string]int {
	if r.Version(r.Active) == "" && r.Version(r.Other()) == "" {
		return map[string]int{"blue": 0, "green": 0}
	}
	return map[string]int{r.Active: 100 - r.CanaryPercent, r.Other(): r.CanaryPercent}
}

// BuiltinSecrets are the secrets every stack has; services name them in their secrets.
var BuiltinSecrets = []string{"postgres", "redis"}

// Default service settings.
const (
	DefaultServicePort = 8080
	defaultCPU         = "250m"
	defaultMemory      = "256Mi"
	defaultCPULimit    = "1"
	defaultMemoryLimit = "512Mi"
)

// defaultServices are the application's services when scalemate:app.services is not set.
func defaultServices() map[string]Service {
	return map[string]Service{
		"api":    {ReadinessPath: "/api/healthz/ready", LivenessPath: "/healthz/live", Route: "/api/*", Peers: []string{"web", "worker"}, Secrets: []string{"postgres", "redis"}, Migrate: []string{"/app/migrate", "up"}},
		"web":    {ReadinessPath: "/healthz/ready", LivenessPath: "/healthz/live", Route: "/*"},
		"worker": {ReadinessPath: "/healthz/ready", LivenessPath: "/healthz/live", Secrets: []string{"postgres", "redis"}},
	}
}

// replicaDefaults are each tier's autoscaling bounds per service and colour.
var replicaDefaults = map[Tier][2]int{Local: {1, 1}, Dev: {1, 2}, Staging: {2, 4}, Prod: {3, 12}}

// withServiceDefaults fills every service's unset fields.
func (a *App) withServiceDefaults(t Tier) {
	if a.Release.Active == "" {
		a.Release.Active = "blue"
	}
	for name, s := range a.Services {
		if s.Image == "" {
			s.Image = name
		}
		if s.Port == 0 {
			s.Port = DefaultServicePort
		}
		if s.LivenessPath == "" {
			s.LivenessPath = s.ReadinessPath
		}
		s.CPU, s.Memory = orDefault(s.CPU, defaultCPU), orDefault(s.Memory, defaultMemory)
		s.CPULimit, s.MemoryLimit = orDefault(s.CPULimit, defaultCPULimit), orDefault(s.MemoryLimit, defaultMemoryLimit)
		if s.MinReplicas == 0 {
			s.MinReplicas = replicaDefaults[t][0]
		}
		if s.MaxReplicas == 0 {
			s.MaxReplicas = max(replicaDefaults[t][1], s.MinReplicas)
		}
		a.Services[name] = s
	}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// ServiceNames lists the services in a stable order.
func (a App) ServiceNames() []string { return slices.Sorted(maps.Keys(a.Services)) }

var (
	serviceNameRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,10}[a-z0-9])?$`)
	// Tags the repositories' lifecycle rules keep (v..., sha-...), or a digest.
	versionRE    = regexp.MustCompile(`^(v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]{1,64})?|sha-[0-9a-f]{7,40}|sha256:[0-9a-f]{64})$`)
	secretNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	secretKeyRE  = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$`)
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// validateApp checks scalemate:app in the user's words: services, their references to images,
// secrets and each other, and the release.
func (s *Spec) validateApp(p *validate.Problems) {
	a := s.App
	k := KeyApp + "."
	if len(a.Services) == 0 {
		p.Addf(k+"services", "at least one service is required")
	}
	for short, name := range a.Secrets {
		field := k + "secrets." + short
		switch {
		case !secretKeyRE.MatchString(short):
			p.Addf(field, "%q is not a short secret name (lower-case letters, digits and dashes, at most 32)", short)
		case slices.Contains(BuiltinSecrets, short):
			p.Addf(field, "%q is built in (%s); choose another short name", short, strings.Join(BuiltinSecrets, ", "))
		}
		checkSecretsManagerName(p, field, name)
	}
	routes := map[string]string{}
	for _, name := range a.ServiceNames() {
		svc := a.Services[name]
		f := k + "services." + name + "."
		switch {
		case !serviceNameRE.MatchString(name):
			p.Addf(k+"services."+name, "%q is not a service name (lower-case letters, digits and dashes, starting with a letter, at most 12: it names target groups, whose names AWS limits to 32)", name)
		case strings.HasSuffix(name, "-blue") || strings.HasSuffix(name, "-green"):
			p.Addf(k+"services."+name, "%q ends in a colour: the colour Services are named <service>-blue and <service>-green", name)
		}
		if !slices.Contains(a.Images, svc.Image) {
			p.Addf(f+"image", "%q is not one of %simages (%s): services run images from the stack's own repositories", svc.Image, k, strings.Join(a.Images, ", "))
		}
		p.IntRange(f+"port", svc.Port, 1024, 65535)
		for field, path := range map[string]string{"readinessPath": svc.ReadinessPath, "livenessPath": svc.LivenessPath} {
			if path == "" {
				p.Addf(f+field, "must be set: the pods' probes and the load balancer's health check need an HTTP path that answers 2xx")
			} else if !validate.IsHTTPPath(path) {
				p.Addf(f+field, "%q is not an HTTP path (starts with /, no spaces, query or wildcards)", path)
			}
		}
		for field, q := range map[string]string{"cpu": svc.CPU, "memory": svc.Memory, "cpuLimit": svc.CPULimit, "memoryLimit": svc.MemoryLimit} {
			if _, ok := validate.Quantity(q); !ok {
				p.Addf(f+field, "%q is not a Kubernetes quantity (e.g. 250m, 1, 256Mi)", q)
			}
		}
		if req, ok := validate.Quantity(svc.CPU); ok {
			if lim, ok := validate.Quantity(svc.CPULimit); ok && req > lim {
				p.Addf(f+"cpu", "%s is more than cpuLimit %s", svc.CPU, svc.CPULimit)
			}
		}
		if req, ok := validate.Quantity(svc.Memory); ok {
			if lim, ok := validate.Quantity(svc.MemoryLimit); ok && req > lim {
				p.Addf(f+"memory", "%s is more than memoryLimit %s", svc.Memory, svc.MemoryLimit)
			}
		}
		p.Scaling(f+"minReplicas", f+"maxReplicas", f+"minReplicas", svc.MinReplicas, svc.MaxReplicas, svc.MinReplicas, 100)
		if svc.MinReplicas < 1 {
			p.Addf(f+"minReplicas", "must be at least 1")
		}
		if s.Tier == Prod && svc.Route != "" && svc.MinReplicas < 2 {
			p.Addf(f+"minReplicas", "%d: a routed prod service keeps at least 2 pods per colour, so a drain or a zone loss never empties it", svc.MinReplicas)
		}
		for i, secret := range svc.Secrets {
			sf := fmt.Sprintf("%ssecrets[%d]", f, i)
			if _, extra := a.Secrets[secret]; !extra && !slices.Contains(BuiltinSecrets, secret) {
				p.Addf(sf, "%q is not a secret of this stack; use %s or a short name of %ssecrets", secret, strings.Join(BuiltinSecrets, ", "), k)
			} else if slices.Index(svc.Secrets, secret) != i {
				p.Addf(sf, "%q is listed twice", secret)
			}
		}
		for i, peer := range svc.Peers {
			pf := fmt.Sprintf("%speers[%d]", f, i)
			if _, ok := a.Services[peer]; !ok || peer == name {
				p.Addf(pf, "%q is not another service of %sservices (%s)", peer, k, strings.Join(a.ServiceNames(), ", "))
			}
		}
		for env := range svc.Env {
			if !envNameRE.MatchString(env) {
				p.Addf(f+"env."+env, "is not an environment variable name (letters, digits, _)")
			}
		}
		if svc.Route != "" {
			switch {
			case !validate.IsPathPattern(svc.Route):
				p.Addf(f+"route", "%q is not a load balancer path pattern (starts with /, at most 128 characters, * and ? as wildcards)", svc.Route)
			case routes[svc.Route] != "":
				p.Addf(f+"route", "%q is also the route of %s", svc.Route, routes[svc.Route])
			}
			routes[svc.Route] = name
		}
		if len(svc.Migrate) > 0 && strings.TrimSpace(svc.Migrate[0]) == "" {
			p.Addf(f+"migrate", "the command's first word must not be empty")
		}
	}
	if len(routes) == 0 && len(a.Services) > 0 {
		p.Addf(k+"services", "no service has a route: the load balancer would have nothing to forward to")
	}
	s.validateRelease(p)
}

// checkSecretsManagerName records a problem when name is not a Secrets Manager secret name (an
// ARN or a name with a random-looking suffix is refused: AWS resolves those ambiguously).
func checkSecretsManagerName(p *validate.Problems, field, name string) {
	switch {
	case strings.HasPrefix(name, "arn:"):
		p.Addf(field, "%q is an ARN; give the secret's name (the ARN's random suffix changes when a secret is recreated)", name)
	case !secretNameRE.MatchString(name):
		p.Addf(field, "%q is not a Secrets Manager name (1-512 of letters, digits and /_+=.@-)", name)
	case regexp.MustCompile(`-[A-Za-z0-9]{6}$`).MatchString(name):
		p.Addf(field, "%q ends in a hyphen and six characters, which Secrets Manager confuses with an ARN suffix; rename the secret", name)
	}
}

func (s *Spec) validateRelease(p *validate.Problems) {
	r := s.App.Release
	k := KeyApp + ".release."
	p.OneOf(k+"active", r.Active, Colours...)
	for _, c := range Colours {
		if v := r.Version(c); v != "" && !versionRE.MatchString(v) {
			p.Addf(k+c+".version", "%q is not an immutable version: use a release tag (v1.2.3), a commit tag (sha-<git sha>) or a digest (sha256:<64 hex>); tags such as latest move", v)
		}
	}
	p.IntRange(k+"canaryPercent", r.CanaryPercent, 0, 100)
	if !slices.Contains(Colours, r.Active) {
		return
	}
	active, other := r.Version(r.Active), r.Version(r.Other())
	switch {
	case active == "" && other != "":
		p.Addf(k+"active", "%s runs no version but %s runs %s: make %s active, or give %s a version", r.Active, r.Other(), other, r.Other(), r.Active)
	case r.CanaryPercent > 0 && other == "":
		p.Addf(k+"canaryPercent", "%d%% would go to %s, which runs no version; set %s%s.version first", r.CanaryPercent, r.Other(), k, r.Other())
	}
}
