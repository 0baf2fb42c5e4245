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
	// watched: canaries an alarm known to notify watches; maybe: canaries an alarm may watch
	// once its unknown parts are known ("*": any canary, its metric is not known yet).
	watched, maybe := map[string]bool{}, map[string]bool{}
	for _, a := range ofType(rs, TypeMetricAlarm) {
		enabled, actions := a.Get("actionsEnabled"), a.Get("alarmActions")
		if (!enabled.Unknown() && !enabled.Absent() && !enabled.Bool()) || (!actions.Unknown() && len(actions.Items()) == 0) {
			continue // known not to notify
		}
		// Its actions notify when known, or when each unknown one is this stack's topic.
		notifies := !enabled.Unknown() && !actions.Computed()
		for _, act := range actions.Items() {
			notifies = notifies && (!act.Unknown() || c.vouched(a, act, "alarmActions[]"))
		}
		mark := func(namespace, name analyzed.Field) {
			switch {
			case namespace.Unknown():
				maybe["*"] = true
			case namespace.String() != syntheticsMetrics:
			case name.Unknown():
				maybe["*"] = true
			case notifies:
				watched[name.String()] = true
			default:
				maybe[name.String()] = true
			}
		}
		if q := a.Get("metricQueries"); q.Computed() {
			maybe["*"] = true
		} else if !a.Get("namespace").Absent() || q.Absent() {
			mark(a.Get("namespace"), a.Get("dimensions", "CanaryName"))
		}
		for _, q := range a.Get("metricQueries").Items() {
			mark(q.Get("metric", "namespace"), q.Get("metric", "dimensions", "CanaryName"))
		}
	}
	for _, r := range ofType(rs, TypeCanary) {
		if r.Props.Len() == 0 {
			continue // not part of this operation (excluded, as by make foundation): nothing to judge yet
		}
		f := r.Get("name")
		if !c.Known(r, f, "name") || watched[f.String()] {
			continue
		}
		if maybe[f.String()] || maybe["*"] {
			c.CannotCheck(r, "the alarms that may watch it")
			continue
		}
		c.Violate(r, "no alarm with an action watches canary %s (CloudWatchSynthetics, CanaryName=%s)", f.String(), f.String())
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
