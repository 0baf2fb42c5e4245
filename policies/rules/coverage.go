package rules

// JudgedTypes are the resource types some rule judges (a resource rule's types; the types a
// stack rule reads), each with its rules' names.
func JudgedTypes() map[string][]string {
	out := map[string][]string{}
	for _, r := range All() {
		for _, t := range r.Types {
			out[t] = append(out[t], r.Name)
		}
	}
	return out
}

// Coverage by construction (tests/coverage_test.go): every type the program or the account
// baseline registers has a rule, or an entry below. NoControl says why no public control
// applies; ControlsToDo names the public controls that apply and are not implemented yet (the
// work list: the test prints it, and an entry goes when its rule lands).

// NoControl are registered types that no public control judges, with the reason.
var NoControl = map[string]string{
	"aws:acm/certificateValidation:CertificateValidation":        "a wait for DNS validation; it has no settings",
	"aws:backup/restoreTestingPlan:RestoreTestingPlan":           "restore testing is itself the control (tests/data_test.go)",
	"aws:backup/restoreTestingSelection:RestoreTestingSelection": "restore testing is itself the control",
	"aws:backup/selection:Selection":                             "assigns resources to a plan; Backup.1 judges the vault's recovery points",
	"aws:cloudfront/originAccessControl:OriginAccessControl":     "the signing settings a distribution's S3 origin names; CloudFront.13 is judged on the distribution",
	"aws:budgets/budget:Budget":                                  "the budget is itself the cost control",
	"aws:cfg/deliveryChannel:DeliveryChannel":                    "delivery target of the recorder, which config-records-all judges",
	"aws:cloudwatch/dashboard:Dashboard":                         "no security or cost control; priced by the cost model",
	"aws:cloudwatch/eventRule:EventRule":                         "routing of events to the alert topics; no public control",
	"aws:cloudwatch/eventTarget:EventTarget":                     "routing of events to the alert topics; no public control",
	"aws:cloudwatch/queryDefinition:QueryDefinition":             "a saved Logs Insights query; no settings to judge",
	"aws:codebuild/webhook:Webhook":                              "the runner's trigger; CodeBuild.1-5 judge the project",
	"aws:costexplorer/anomalyMonitor:AnomalyMonitor":             "the anomaly monitor is itself a cost control",
	"aws:costexplorer/anomalySubscription:AnomalySubscription":   "the anomaly alerts are themselves a cost control",
	"aws:ec2/eip:Eip":                                         "every address belongs to a NAT gateway; EC2.12 (unused addresses) is judged at runtime",
	"aws:ec2/internetGateway:InternetGateway":                 "no control; exposure is judged on subnets (EC2.15) and security groups",
	"aws:ec2/routeTable:RouteTable":                           "no peering here, so CIS 5.x route least access does not apply",
	"aws:ec2/routeTableAssociation:RouteTableAssociation":     "no settings beyond the association",
	"aws:eks/addon:Addon":                                     "no public control; versions are pinned per stack (tests)",
	"aws:elasticache/parameterGroup:ParameterGroup":           "no public control on cache parameters",
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider":     "the cluster's issuer; trust conditions are judged on the roles",
	"aws:kms/alias:Alias":                                     "a name for a key; the key is judged",
	"aws:lb/listenerRule:ListenerRule":                        "routing behind the origin header; the listener's TLS is judged (ELB.1)",
	"aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": "connection pool settings; no public control",
	"aws:rds/proxyTarget:ProxyTarget":                         "the proxy's database; no settings",
	"aws:rds/subnetGroup:SubnetGroup":                         "no public control (public access is judged on the instance, RDS.2)",
	"aws:route53/record:Record":                               "DNS records; no public control applies to these aliases",
	"aws:s3/bucketObjectv2:BucketObjectv2":                    "the maintenance page object; the bucket is judged",
	"aws:secretsmanager/secretVersion:SecretVersion":          "the value of a secret; the secret (KMS, rotation) is judged",
	"aws:sns/topicSubscription:TopicSubscription":             "the alert endpoints; no public control",
	"kubernetes:autoscaling/v2:HorizontalPodAutoscaler":       "kube-linter's default checks have none for autoscalers; replica floors are stack tests",
	"kubernetes:core/v1:ConfigMap":                            "no public control; the stack tests keep secrets out of it",
	"kubernetes:core/v1:LimitRange":                           "a control itself (container defaults)",
	"kubernetes:core/v1:ResourceQuota":                        "a control itself (namespace quota)",
	"kubernetes:core/v1:Secret":                               "no control on the object (kube-linter's env-var-secret judges pods)",
	"kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding":     "a custom resource registering pods into a target group; no settings to judge",
	"kubernetes:external-secrets.io/v1:ExternalSecret":        "a custom resource naming a secret; access is judged on IAM (IRSA roles)",
	"kubernetes:external-secrets.io/v1:SecretStore":           "a custom resource naming a region and identity; judged on IAM",
	"kubernetes:helm.sh/v3:Release":                           "vendored charts, pinned by digest (components/k8sbaseline tests); no control on the release object",
	"kubernetes:scheduling.k8s.io/v1:PriorityClass":           "no public control",
	"kubernetes:storage.k8s.io/v1:StorageClass":               "no public control; encryption is asserted by TestStorageClasses",
	"random:index/randomId:RandomId":                          "generates a value; nothing in the cloud",
	"random:index/randomPassword:RandomPassword":              "generates a value kept as a secret; the secret is judged",
}

// ControlsToDo are registered types with a public control that applies and no rule yet.
var ControlsToDo = map[string]string{}
