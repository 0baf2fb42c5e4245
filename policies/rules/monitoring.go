package rules

import (
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// TypeLogMetricFilter turns log lines into a metric an alarm can watch.
const TypeLogMetricFilter = "aws:cloudwatch/logMetricFilter:LogMetricFilter"

// cisEvents are the events CIS AWS Foundations 4.1-4.15 (Security Hub CloudWatch.1-14) want a
// metric filter and an alarm for, each with a term its filter pattern must hold.
var cisEvents = []struct{ control, event, term string }{
	{"4.1", "unauthorized API calls", "UnauthorizedOperation"},
	{"4.2", "console sign-in without MFA", "MFAUsed"},
	{"4.3", "root user use", `"Root"`},
	{"4.4", "IAM policy changes", "PutRolePolicy"},
	{"4.5", "CloudTrail configuration changes", "StopLogging"},
	{"4.6", "console authentication failures", "Failed authentication"},
	{"4.7", "disabling or scheduled deletion of customer managed keys", "ScheduleKeyDeletion"},
	{"4.8", "S3 bucket policy changes", "PutBucketPolicy"},
	{"4.9", "AWS Config configuration changes", "StopConfigurationRecorder"},
	{"4.10", "security group changes", "AuthorizeSecurityGroupIngress"},
	{"4.11", "network ACL changes", "CreateNetworkAclEntry"},
	{"4.12", "network gateway changes", "CreateCustomerGateway"},
	{"4.13", "route table changes", "ReplaceRouteTableAssociation"},
	{"4.14", "VPC changes", "CreateVpcPeeringConnection"},
	{"4.15", "AWS Organizations changes", "organizations.amazonaws.com"},
}

func monitoringRules() []Rule {
	return []Rule{
		{Name: "log-metric-filter-alarmed", Pack: Security, Level: Mandatory, Anchor: "CIS AWS Foundations 4.1-4.15 (a metric filter and an alarm)",
			Summary: "Every log metric filter's metric is watched by an alarm", Types: []string{TypeLogMetricFilter, TypeMetricAlarm},
			Stack: checkFiltersAlarmed},
		{Name: "cis-trail-metric-filters", Pack: Security, Level: Mandatory, Anchor: "CIS AWS Foundations 4.1-4.15, FSBP CloudWatch.1-14",
			Summary: "A trail delivered to CloudWatch Logs has a metric filter for each event CIS names",
			Types:   []string{TypeTrail, TypeLogMetricFilter}, Stack: checkCISFilters},
	}
}

type metricID struct{ namespace, name string }

// checkFiltersAlarmed: each filter's metric (namespace and name) is an alarm's metric, named
// directly or in one of its metric queries.
func checkFiltersAlarmed(c *Check, rs []analyzed.Resource) {
	watched, unknown := map[metricID]bool{}, false
	note := func(m analyzed.Field) {
		ns, name := m.Get("namespace"), m.Get("metricName")
		if ns.Unknown() || name.Unknown() {
			unknown = true
			return
		}
		watched[metricID{ns.String(), name.String()}] = true
	}
	for _, a := range ofType(rs, TypeMetricAlarm) {
		if a.Get("metricQueries").Unknown() {
			unknown = true
		}
		note(a.Root())
		for _, q := range a.Get("metricQueries").Items() {
			if m := q.Get("metric"); !m.Absent() {
				note(m)
			}
		}
	}
	for _, f := range ofType(rs, TypeLogMetricFilter) {
		mt := f.Get("metricTransformation")
		ns, name := mt.Get("namespace"), mt.Get("name")
		if !c.Known(f, ns, "metricTransformation.namespace") || !c.Known(f, name, "metricTransformation.name") {
			continue
		}
		switch {
		case watched[metricID{ns.String(), name.String()}]:
		case unknown:
			c.CannotCheck(f, "the alarms' metrics")
		default:
			c.Violate(f, "no alarm watches metric %s/%s", ns.String(), name.String())
		}
	}
}

// checkCISFilters: a trail that delivers to CloudWatch Logs has, among the stack's metric
// filters, one whose pattern names each CIS event (the alarms: log-metric-filter-alarmed).
func checkCISFilters(c *Check, rs []analyzed.Resource) {
	trails := ofType(rs, TypeTrail)
	if len(trails) == 0 {
		return
	}
	found, unknown := make([]bool, len(cisEvents)), false
	for _, f := range ofType(rs, TypeLogMetricFilter) {
		p := f.Get("pattern")
		if p.Unknown() {
			unknown = true
			continue
		}
		for i, e := range cisEvents {
			found[i] = found[i] || strings.Contains(p.String(), e.term)
		}
	}
	for _, t := range trails {
		if f := t.Get("cloudWatchLogsGroupArn"); f.Absent() || (!f.Unknown() && f.String() == "") {
			continue // no CloudWatch Logs delivery: cloudtrail-encrypted-to-cloudwatch judges that
		}
		for i, e := range cisEvents {
			switch {
			case found[i]:
			case unknown:
				c.CannotCheck(t, "the metric filters' patterns")
				return
			default:
				c.Violate(t, "no metric filter for CIS %s (%s)", e.control, e.event)
			}
		}
	}
}
