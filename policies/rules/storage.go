package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/scalemate/infra/policies/analyzed"
)

// Resource types of the S3 bucket settings and backup plans the rules below judge.
const (
	TypeBucketLifecycle  = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	TypeBucketVersioning = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	TypeBucketOwnership  = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	TypeBucketObjectLock = "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2"
	TypeBackupPlan       = "aws:backup/plan:Plan"
)

// storageRules are the S3 bucket controls (FSBP S3.12-S3.15) and the backup plan's schedule.
func storageRules() []Rule {
	return []Rule{
		{Name: "s3-lifecycle-configured", Pack: Security, Level: Mandatory, Anchor: "FSBP S3.13, CKV2_AWS_61",
			Summary: "S3 buckets have a lifecycle configuration", Types: []string{TypeBucket, TypeBucketLifecycle},
			Stack: func(c *Check, rs []analyzed.Resource) {
				requireCompanion(c, rs, TypeBucket, TypeBucketLifecycle, "no lifecycle configuration is attached to the bucket")
			}},
		{Name: "s3-versioning", Pack: Security, Level: Mandatory, Anchor: "FSBP S3.14, CKV_AWS_21",
			Summary: "S3 buckets keep object versions (versioning enabled)", Types: []string{TypeBucket, TypeBucketVersioning},
			Stack: checkBucketVersioning},
		{Name: "s3-acls-disabled", Pack: Security, Level: Mandatory, Anchor: "FSBP S3.12, CKV2_AWS_65",
			Summary: "S3 buckets disable ACLs (BucketOwnerEnforced), except a CloudFront standard-logging bucket, which needs them",
			Types:   []string{TypeBucket, TypeBucketOwnership, TypeDistribution}, Stack: checkBucketACLs},
		{Name: "s3-audit-log-object-lock", Pack: Security, Level: Mandatory, Anchor: "FSBP S3.15, CIS AWS Foundations 3.x",
			Summary: "The bucket an audit trail writes to is object-locked where the tier requires protection",
			Types:   []string{TypeTrail, TypeBucket, TypeBucketObjectLock}, Stack: checkTrailObjectLock},
		{Name: "backup-plan-frequency-retention", Pack: Security, Level: Mandatory,
			Anchor:  "AWS Config backup-plan-min-frequency-and-min-retention-check, FSBP Backup.1",
			Summary: "Backup plans back up at least daily and keep no recovery point less than the tier's minimum retention",
			Types:   []string{TypeBackupPlan}, Resource: checkBackupPlan},
	}
}

func checkBucketVersioning(c *Check, rs []analyzed.Resource) {
	for _, b := range ofType(rs, TypeBucket) {
		enabled, unknown := false, false
		for _, v := range c.dependentsOf(rs, b, TypeBucketVersioning) {
			status := v.Get("versioningConfiguration", "status")
			if !c.Known(v, status, "versioningConfiguration.status") {
				unknown = true
				continue
			}
			enabled = enabled || status.String() == "Enabled"
		}
		if !enabled && !unknown {
			c.Violate(b, "versioning is not enabled on the bucket")
		}
	}
}

// checkBucketACLs: BucketOwnerEnforced everywhere, BucketOwnerPreferred only on a bucket that a
// distribution of the stack logs to (CloudFront standard logging writes through an ACL grant).
func checkBucketACLs(c *Check, rs []analyzed.Resource) {
	for _, b := range ofType(rs, TypeBucket) {
		controls := c.dependentsOf(rs, b, TypeBucketOwnership)
		if len(controls) == 0 {
			c.Violate(b, "no ownership controls: ACLs stay enabled")
			continue
		}
		for _, o := range controls {
			own := o.Get("rule", "objectOwnership")
			if !c.Known(o, own, "rule.objectOwnership") {
				continue
			}
			switch own.String() {
			case "BucketOwnerEnforced":
			case "BucketOwnerPreferred":
				if !logsCloudFront(c, rs, b) {
					c.Violate(o, "objectOwnership is BucketOwnerPreferred (ACLs enabled) on a bucket no distribution logs to")
				}
			default:
				c.Violate(o, "objectOwnership is %q: ACLs are enabled", own.String())
			}
		}
	}
}

// logsCloudFront reports a distribution of the stack that depends on bucket b and logs.
func logsCloudFront(c *Check, rs []analyzed.Resource, b analyzed.Resource) bool {
	for _, d := range c.dependentsOf(rs, b, TypeDistribution) {
		if !d.Get("loggingConfig").Absent() {
			return true
		}
	}
	return false
}

// checkTrailObjectLock: where the tier requires protection, each trail's bucket of this stack
// is created with object lock and has a default retention (a trail writing to another
// account's bucket is judged there).
func checkTrailObjectLock(c *Check, rs []analyzed.Resource) {
	if !c.T.RequireProtect {
		return
	}
	for _, t := range ofType(rs, TypeTrail) {
		b, ok := c.dependencyOf(rs, t, TypeBucket)
		if !ok {
			continue
		}
		if f := b.Get("objectLockEnabled"); c.Known(b, f, "objectLockEnabled") && !f.Bool() {
			c.Violate(b, "the trail's bucket is not created with object lock")
			continue
		}
		locked := false
		for _, l := range c.dependentsOf(rs, b, TypeBucketObjectLock) {
			ret := l.Get("rule", "defaultRetention")
			if !c.Known(l, ret, "rule.defaultRetention") {
				locked = true // reported as unknown
				continue
			}
			mode := ret.Get("mode").String()
			if (mode == "COMPLIANCE" || mode == "GOVERNANCE") && (ret.Get("days").Int() > 0 || ret.Get("years").Int() > 0) {
				locked = true
			}
		}
		if !locked {
			c.Violate(b, "the trail's bucket has no default object lock retention")
		}
	}
}

// checkBackupPlan: one rule at least daily, and every rule keeps recovery points at least the
// tier's minimum (AWS Config's check, with the tier's retention instead of its 35 days).
func checkBackupPlan(c *Check, r analyzed.Resource) {
	rules := r.Get("rules")
	if !c.Known(r, rules, "rules") {
		return
	}
	daily := false
	for i, pr := range rules.Items() {
		name := strconv.Itoa(i + 1)
		sched := pr.Get("schedule")
		switch {
		case !c.Known(r, sched, "rules.schedule"):
			daily = true // reported as unknown
		case sched.Absent():
			daily = true // AWS Backup's default schedule is daily
		default:
			ok, err := atLeastDaily(sched.String())
			if err != nil {
				c.Violate(r, "rule %s: %v", name, err)
			}
			daily = daily || ok
		}
		// Absent deleteAfter keeps recovery points for ever.
		if d := pr.Get("lifecycle", "deleteAfter"); c.Known(r, d, "rules.lifecycle.deleteAfter") && !d.Absent() && d.Int() < c.T.MinBackupRetentionDays {
			c.Violate(r, "rule %s keeps recovery points %d days; %s keeps at least %d", name, d.Int(), c.T.Tier, c.T.MinBackupRetentionDays)
		}
	}
	if !daily {
		c.Violate(r, "no rule backs up at least daily")
	}
}

// atLeastDaily reports whether an AWS Backup schedule, cron(minutes hours day-of-month month
// day-of-week year), runs at least once a day; an expression it cannot read is an error
// (AWS Backup takes cron expressions only).
func atLeastDaily(expr string) (bool, error) {
	f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	if !strings.HasPrefix(expr, "cron(") || !strings.HasSuffix(expr, ")") || len(f) != 6 {
		return false, fmt.Errorf("schedule %q is not cron(...) with six fields", expr)
	}
	every := func(field string, all ...string) bool {
		return slices.Contains(append([]string{"*", "?", "*/1"}, all...), strings.ToUpper(field))
	}
	return every(f[2], "1/1") && every(f[3], "1/1", "1-12", "JAN-DEC") && every(f[4], "1-7", "SUN-SAT", "MON-SUN") && every(f[5]), nil
}
