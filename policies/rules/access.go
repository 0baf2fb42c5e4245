package rules

import (
	"gopkg.in/yaml.v3"

	"github.com/scalemate/infra/policies/analyzed"
)

// Resource types of operator access and the users' view.
const (
	TypeCanary        = "aws:synthetics/canary:Canary"
	TypeClientVPN     = "aws:ec2clientvpn/endpoint:Endpoint"
	TypeSSMDocument   = "aws:ssm/document:Document"
	syntheticsMetrics = "CloudWatchSynthetics"
	sessionDocument   = "Session"
)

// accessRules judge how humans reach the platform (Session Manager, Client VPN) and how the
// platform watches what its users see (Synthetics canaries).
func accessRules() []Rule {
	return []Rule{
		{Name: "canary-watched", Pack: Security, Level: Mandatory, Anchor: "Well-Architected REL06-BP07, OPS08-BP04 (alert on user-facing checks)",
			Summary: "Every Synthetics canary has an alarm with an action on its metrics",
			Types:   []string{TypeCanary, TypeMetricAlarm}, Stack: checkCanariesWatched},
		{Name: "client-vpn-connection-logging", Pack: Security, Level: Mandatory, Anchor: "FSBP EC2.51",
			Summary: "Client VPN endpoints log client connections", Types: []string{TypeClientVPN},
			Resource: func(c *Check, r analyzed.Resource) {
				if f := r.Get("connectionLogOptions", "enabled"); c.Known(r, f, "connectionLogOptions.enabled") && !f.Bool() {
					c.Violate(r, "connectionLogOptions.enabled is not true")
				}
			}},
		{Name: "ssm-session-logs-encrypted", Pack: Security, Level: Mandatory, Anchor: "CKV_AWS_112, CKV_AWS_113",
			Summary: "Session Manager preferences encrypt sessions with a KMS key and log them, encrypted", Types: []string{TypeSSMDocument},
			Resource: checkSessionPreferences},
	}
}

// checkCanariesWatched: a canary nobody hears is a bill, not a check. An alarm watches a canary
// when it has enabled actions and reads a CloudWatchSynthetics metric of it, directly or in a
// metric query.
func checkCanariesWatched(c *Check, rs []analyzed.Resource) {
	watched := map[string]bool{}
	blind := false // an alarm's action or metric is not known yet: an unwatched canary may be watched
	for _, a := range ofType(rs, TypeMetricAlarm) {
		for _, field := range []string{"actionsEnabled", "alarmActions", "namespace", "dimensions", "metricQueries"} {
			blind = blind || a.Get(field).Unknown()
		}
		if enabled := a.Get("actionsEnabled"); (!enabled.Absent() && !enabled.Bool()) || len(a.Get("alarmActions").Items()) == 0 {
			continue
		}
		if a.Get("namespace").String() == syntheticsMetrics {
			watched[a.Get("dimensions", "CanaryName").String()] = true
		}
		for _, q := range a.Get("metricQueries").Items() {
			if q.Get("metric", "namespace").String() == syntheticsMetrics {
				watched[q.Get("metric", "dimensions", "CanaryName").String()] = true
			}
		}
	}
	for _, r := range ofType(rs, TypeCanary) {
		if r.Props.Len() == 0 {
			continue // not part of this operation (excluded, as by make foundation): nothing to judge yet
		}
		if f := r.Get("name"); c.Known(r, f, "name") && !watched[f.String()] {
			if blind {
				c.CannotCheck(r, "the alarms' actions and metrics")
				continue
			}
			c.Violate(r, "no alarm with an action watches canary %s (CloudWatchSynthetics, CanaryName=%s)", f.String(), f.String())
		}
	}
}

// checkSessionPreferences reads a Session document's inputs (other documents are not judged).
func checkSessionPreferences(c *Check, r analyzed.Resource) {
	kind, content := r.Get("documentType"), r.Get("content")
	if !c.Known(r, kind, "documentType") || kind.String() != sessionDocument || !c.Known(r, content, "content") {
		return
	}
	// JSON or YAML (documentFormat): YAML reads both.
	var doc struct {
		SessionType string `yaml:"sessionType"`
		Inputs      struct {
			KMSKeyID                    string `yaml:"kmsKeyId"`
			S3BucketName                string `yaml:"s3BucketName"`
			S3EncryptionEnabled         bool   `yaml:"s3EncryptionEnabled"`
			CloudWatchLogGroupName      string `yaml:"cloudWatchLogGroupName"`
			CloudWatchEncryptionEnabled bool   `yaml:"cloudWatchEncryptionEnabled"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal([]byte(content.String()), &doc); err != nil {
		c.Violate(r, "content is neither JSON nor YAML: %v", err)
		return
	}
	if doc.SessionType != "Standard_Stream" {
		return // port forwarding and command documents carry no preferences
	}
	in := doc.Inputs
	if in.KMSKeyID == "" {
		c.Violate(r, "inputs.kmsKeyId is not set: session data is not encrypted with a KMS key")
	}
	cw := in.CloudWatchLogGroupName != "" && in.CloudWatchEncryptionEnabled
	s3 := in.S3BucketName != "" && in.S3EncryptionEnabled
	if !cw && !s3 {
		c.Violate(r, "sessions are not logged to an encrypted log group (cloudWatchLogGroupName with cloudWatchEncryptionEnabled) or bucket")
	}
}
