// Package k8smeta builds the metadata of the Kubernetes objects the components create.
package k8smeta

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Object is an object's name, namespace and labels. No labels leaves the field out: an empty
// map would be an input the API server drops, which the real provider then shows as a change
// on every preview.
func Object(name, namespace string, labels map[string]string) *metav1.ObjectMetaArgs {
	m := &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: pulumi.String(namespace)}
	if len(labels) > 0 {
		m.Labels = pulumi.ToStringMap(labels)
	}
	return m
}
