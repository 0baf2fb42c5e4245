// Package preflight lists the AWS service quotas a stack needs, from the resources the program
// registers, so they can be compared with the account's before a first `up` fails half-way
// (AddressLimitExceeded on a NAT gateway's address, node groups stuck for want of vCPUs).
package preflight

import (
	"github.com/scalemate/infra/internal/instancetype"
	"github.com/scalemate/infra/internal/mocktest"
)

// Quota is one Service Quotas entry.
type Quota struct {
	// Service and Code identify it in Service Quotas (aws service-quotas get-service-quota).
	Service, Code string
	// Name is AWS's name of the quota.
	Name string
	// Default is AWS's default value for a new account (0: it varies by account).
	Default float64
}

// Need is what a stack needs of one quota.
type Need struct {
	Quota
	// Needed is the stack's own use at its node pools' maximum size.
	Needed float64
}

// The quotas a stack of this program uses.
var (
	ElasticIPs      = Quota{"ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5}
	OnDemandVCPUs   = Quota{"ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs)", 0}
	SpotVCPUs       = Quota{"ec2", "L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests (vCPUs)", 0}
	NATPerAZ        = Quota{"vpc", "L-FE5A380F", "NAT gateways per Availability Zone", 5}
	VPCs            = Quota{"vpc", "L-F678F1CE", "VPCs per Region", 5}
	LoadBalancers   = Quota{"elasticloadbalancing", "L-53DA6B97", "Application Load Balancers per Region", 50}
	DBInstances     = Quota{"rds", "L-7B6409FD", "DB instances", 40}
	EKSClusters     = Quota{"eks", "L-1194D53C", "Clusters", 100}
	quotasInDisplay = []Quota{ElasticIPs, OnDemandVCPUs, SpotVCPUs, NATPerAZ, VPCs, LoadBalancers, DBInstances, EKSClusters}
)

// Needs are the stack's needs, one per quota, in a stable order. Node groups count at their
// maxSize and their largest instance type (the autoscaler may pick it).
func Needs(rs []mocktest.Resource) []Need {
	needed := map[string]float64{}
	natsPerAZ := map[string]float64{}
	for _, r := range rs {
		switch r.Type {
		case "aws:ec2/eip:Eip":
			needed[ElasticIPs.Code]++
		case "aws:ec2/vpc:Vpc":
			needed[VPCs.Code]++
		case "aws:lb/loadBalancer:LoadBalancer":
			needed[LoadBalancers.Code]++
		case "aws:rds/instance:Instance":
			needed[DBInstances.Code]++
		case "aws:eks/cluster:Cluster":
			needed[EKSClusters.Code]++
		case "aws:ec2/natGateway:NatGateway":
			subnet, _ := r.Input("subnetId").(string)
			natsPerAZ[subnet]++ // one public subnet per AZ
		case "aws:eks/nodeGroup:NodeGroup":
			largest := 0
			types, _ := r.Input("instanceTypes").([]any)
			for _, it := range types {
				if name, ok := it.(string); ok {
					if t, err := instancetype.Parse(name); err == nil {
						largest = max(largest, t.VCPUs())
					}
				}
			}
			scaling, _ := r.Input("scalingConfig").(map[string]any)
			maxSize, _ := scaling["maxSize"].(float64)
			code := OnDemandVCPUs.Code
			if r.Input("capacityType") == "SPOT" {
				code = SpotVCPUs.Code
			}
			needed[code] += maxSize * float64(largest)
		}
	}
	for _, n := range natsPerAZ {
		needed[NATPerAZ.Code] = max(needed[NATPerAZ.Code], n)
	}
	var out []Need
	for _, q := range quotasInDisplay {
		out = append(out, Need{Quota: q, Needed: needed[q.Code]})
	}
	return out
}
