// Package fakecloud invents what AWS would compute for the resources this program creates
// (ARNs, endpoints, OIDC issuers, generated secrets) and answers the few invokes the program
// makes. Both the mock tests and the offline provider stand-ins use it, so a value looks the
// same under mocks and under the real engine. Every value is deterministic and obviously fake.
package fakecloud

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// AccountID is the fake AWS account every fake ARN belongs to.
const AccountID = "123456789012"

// Region is the region of fake endpoints and ARNs.
const Region = "us-west-2"

// Outputs returns inputs plus the outputs AWS would compute for a resource of this type token
// and logical name. Inputs win: a value the program set is never overwritten.
func Outputs(token, name string, inputs resource.PropertyMap) resource.PropertyMap {
	state := inputs.Copy()
	set := func(k string, v any) {
		if _, ok := state[resource.PropertyKey(k)]; ok {
			return
		}
		if pv, ok := v.(resource.PropertyValue); ok {
			state[resource.PropertyKey(k)] = pv
		} else {
			state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	service := "mock"
	if parts := strings.Split(token, ":"); len(parts) == 3 {
		service = strings.Split(parts[1], "/")[0]
	}
	if strings.HasPrefix(token, "aws:") {
		set("arn", fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, Region, AccountID, name))
	}
	switch token {
	case "aws:eks/cluster:Cluster":
		set("endpoint", "https://"+strings.ToUpper(name)+".gr7."+Region+".eks.amazonaws.com")
		set("certificateAuthority", map[string]any{"data": "LS0tLS1CRUdJTi1GQUtFLUNBLS0tLS0="})
		set("identities", []any{map[string]any{"oidcs": []any{map[string]any{
			"issuer": "https://oidc.eks." + Region + ".amazonaws.com/id/" + strings.ToUpper(name)}}}})
		if vpc, ok := state["vpcConfig"]; ok && vpc.IsObject() {
			cfg := vpc.ObjectValue().Copy()
			cfg["clusterSecurityGroupId"] = resource.NewPropertyValue("sg-" + name)
			state["vpcConfig"] = resource.NewObjectProperty(cfg)
		}
	case "aws:ec2/launchTemplate:LaunchTemplate":
		set("latestVersion", 1)
	case "aws:kms/key:Key":
		set("keyId", name+"-key-id")
	case "aws:iam/role:Role", "aws:rds/proxy:Proxy", "aws:backup/vault:Vault", "aws:rds/subnetGroup:SubnetGroup",
		"aws:rds/parameterGroup:ParameterGroup", "aws:elasticache/subnetGroup:SubnetGroup", "aws:elasticache/parameterGroup:ParameterGroup":
		set("name", name)
	case "aws:acm/certificate:Certificate":
		// One DNS validation record per name, as ACM answers.
		var opts []any
		names := []resource.PropertyValue{inputs["domainName"]}
		if sans, ok := inputs["subjectAlternativeNames"]; ok && sans.IsArray() {
			names = append(names, sans.ArrayValue()...)
		}
		for _, n := range names {
			if !n.IsString() {
				continue
			}
			d := strings.TrimPrefix(n.StringValue(), "*.")
			opts = append(opts, map[string]any{"domainName": n.StringValue(), "resourceRecordName": "_fake." + d + ".",
				"resourceRecordType": "CNAME", "resourceRecordValue": "_fake.acm-validations.aws."})
		}
		set("domainValidationOptions", opts)
	case "aws:s3/bucketV2:BucketV2":
		set("bucket", name+"-a1b2c3")
		set("bucketDomainName", name+"-a1b2c3.s3.amazonaws.com")
		set("bucketRegionalDomainName", name+"-a1b2c3.s3."+Region+".amazonaws.com")
	case "aws:cloudfront/distribution:Distribution":
		set("domainName", "d"+strings.ToLower(name[:min(len(name), 8)])+".cloudfront.net")
		set("hostedZoneId", "Z2FDTNDATAQYW2") // CloudFront's alias zone
	case "aws:route53/record:Record":
		if n, ok := inputs["name"]; ok && n.IsString() {
			set("fqdn", strings.TrimSuffix(n.StringValue(), "."))
		}
	case "aws:lb/loadBalancer:LoadBalancer":
		set("dnsName", name+"-1234567890."+Region+".elb.amazonaws.com")
		set("zoneId", "Z1H1FL5HABSF5") // the ALB hosted zone of us-west-2
		set("arnSuffix", "app/"+name+"/50dc6c495c0c9188")
	case "aws:lb/targetGroup:TargetGroup":
		set("arnSuffix", "targetgroup/"+name+"/73e2d6bc24d8a067")
		set("name", name)
	case "aws:ecr/repository:Repository":
		if n, ok := inputs["name"]; ok && n.IsString() {
			set("repositoryUrl", AccountID+".dkr.ecr."+Region+".amazonaws.com/"+n.StringValue())
			set("registryId", AccountID)
		}
	case "random:index/randomPassword:RandomPassword":
		set("result", resource.MakeSecret(resource.NewPropertyValue("fake-"+name+"-Aa1!")))
	case "aws:secretsmanager/secretVersion:SecretVersion":
		set("versionId", "00000000-0000-4000-8000-"+fmt.Sprintf("%012x", len(name)))
	case "random:index/randomId:RandomId":
		set("hex", "a1b2c3d4")
	case "aws:rds/instance:Instance":
		set("identifier", name)
		set("replicateSourceDb", "") // the real provider reads it back as "" on a primary
		set("address", name+".abc123."+Region+".rds.amazonaws.com")
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		set("configurationEndpointAddress", "clustercfg."+name+".abc123.usw2.cache.amazonaws.com")
		set("primaryEndpointAddress", "master."+name+".abc123.usw2.cache.amazonaws.com")
		set("readerEndpointAddress", "replica."+name+".abc123.usw2.cache.amazonaws.com")
	}
	if token == "aws:rds/instance:Instance" {
		if m, ok := state["manageMasterUserPassword"]; ok && m.IsBool() && m.BoolValue() {
			// RDS names its managed secret rds!db-<resource id>; the fake uses the name.
			set("masterUserSecrets", []any{map[string]any{
				"secretArn":    fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-%s-AbCdEf", Region, AccountID, name),
				"secretStatus": "active",
			}})
		}
	}
	if token == "aws:rds/proxy:Proxy" {
		set("endpoint", name+".proxy-abc123."+Region+".rds.amazonaws.com")
	}
	return state
}

// LiveInvokesEnv answers invokes as a changed account would (the node groups a cluster runs
// and their autoscaled sizes): `<token>=<JSON object>`, several separated by ";". Tests set it;
// without it the fake account has no node group yet.
const LiveInvokesEnv = "SCALEMATE_FAKE_INVOKES"

// Invoke answers the invokes the program makes; any other token is an error.
func Invoke(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	for _, answer := range strings.Split(os.Getenv(LiveInvokesEnv), ";") {
		if tok, result, ok := strings.Cut(answer, "="); ok && tok == token {
			var m map[string]any
			if err := json.Unmarshal([]byte(result), &m); err != nil {
				return nil, fmt.Errorf("%s: the answer to %s is not a JSON object: %w", LiveInvokesEnv, token, err)
			}
			return resource.NewPropertyMapFromMap(m), nil
		}
	}
	switch token {
	case "aws:eks/getNodeGroups:getNodeGroups":
		return resource.NewPropertyMapFromMap(map[string]any{
			"clusterName": args["clusterName"].StringValue(), "id": args["clusterName"].StringValue(), "names": []any{},
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": AccountID, "id": AccountID, "userId": "AIDAFAKE",
			"arn": "arn:aws:iam::" + AccountID + ":user/offline",
		}), nil
	case "aws:route53/getZone:getZone":
		name := strings.TrimSuffix(args["name"].StringValue(), ".")
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": "Z0FAKE" + strings.ToUpper(strings.ReplaceAll(name, ".", "")), "zoneId": "Z0FAKE" + strings.ToUpper(strings.ReplaceAll(name, ".", "")),
			"name": name + ".", "privateZone": false, "nameServers": []any{"ns-1.awsdns-00.org"},
		}), nil
	case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
		// The id AWS gives the CloudFront origin-facing list in us-west-2.
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": "pl-82a045eb", "name": args["name"].StringValue(), "addressFamily": "IPv4", "maxEntries": 55,
		}), nil
	case "aws:eks/getAddonVersion:getAddonVersion":
		// AWS's default addon version for a Kubernetes version, faked from both names.
		addon, version := args["addonName"].StringValue(), args["kubernetesVersion"].StringValue()
		out := args.Copy()
		out["version"] = resource.NewPropertyValue("v" + version + ".0-" + addon + "-eksbuild.1")
		return out, nil
	}
	return nil, fmt.Errorf("offline stand-in: invoke %s is not supported; add it to internal/fakecloud", token)
}
