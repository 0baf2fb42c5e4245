package stacks

import (
	"regexp"
	"slices"
	"strings"

	"github.com/scalemate/infra/internal/validate"
)

var (
	// registryRE is an image registry and optional path: host[:port][/path], or a bare name
	// (images loaded into the cluster's nodes, e.g. with kind load).
	registryRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$`)
	// localContextRE are the kubeconfig contexts of local clusters, as their tools name them
	// (and scripts/kube-local.sh's test API server).
	localContextRE = regexp.MustCompile(`^(kind-.+|k3d-.+|minikube|docker-desktop|rancher-desktop|orbstack|colima(-.+)?|scalemate-local)$`)
	// storageClassRE is a Kubernetes object name (DNS subdomain).
	storageClassRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
)

// validateLocal checks a local-tier stack: the application as in the cloud, and the cluster.
func (s *Spec) validateLocal(p *validate.Problems) {
	p.NotEmpty(KeyOwner, s.Owner)
	s.validateApp(p)
	l, k := s.Local, KeyLocal+"."
	// Named, and a local one: never whatever context is current (often a cloud cluster).
	contexts := "kind-*, k3d-*, minikube, docker-desktop, rancher-desktop, orbstack, colima*, scalemate-local"
	switch {
	case l.Context == "":
		p.Addf(k+"context", "must be set to a local cluster's kubeconfig context (%s), so the local stack never deploys to a cloud cluster that happens to be current", contexts)
	case !localContextRE.MatchString(l.Context):
		p.Addf(k+"context", "%q is not a local cluster's context; use one of %s", l.Context, contexts)
	}
	if !registryRE.MatchString(l.Registry) {
		p.Addf(k+"registry", "%q is not an image registry (host[:port][/path], e.g. localhost:5001, or a name such as scalemate)", l.Registry)
	}
	if l.StorageClass != "" && !storageClassRE.MatchString(l.StorageClass) {
		p.Addf(k+"storageClass", "%q is not a StorageClass name", l.StorageClass)
	}
	if v, ok := validate.Quantity(l.VolumeSize); !ok || v < 1<<26 {
		p.Addf(k+"volumeSize", "%q is not a volume size of at least 64Mi (e.g. 1Gi)", l.VolumeSize)
	}
	if !slices.Contains(KubernetesVersions, l.KubernetesVersion) {
		p.Addf(k+"kubernetesVersion", "%q is not supported; use one of %s", l.KubernetesVersion, strings.Join(KubernetesVersions, ", "))
	}
}
