package stacks

// Edge is CloudFront and WAF in front of the platform (scalemate:edge). Field checks are the
// cdn and waf components'; the program runs them before registering anything.
type Edge struct {
	// OriginDomainName is the application load balancer's DNS name (from the AWS Load Balancer
	// Controller). Required.
	OriginDomainName string `json:"originDomainName"`
	// DomainNames are the CDN's aliases; empty uses CloudFront's default certificate (dev).
	DomainNames []string `json:"domainNames,omitempty"`
	// Route53ZoneID gets the certificate's validation records when set.
	Route53ZoneID string `json:"route53ZoneId,omitempty"`
	// PriceClass is PriceClass_100, _200 or _All. Default 100 / 100 / All.
	PriceClass string `json:"priceClass"`
	// OriginShieldRegion adds Origin Shield there. Default none.
	OriginShieldRegion string `json:"originShieldRegion,omitempty"`
	// GeoRestriction is {type: none|whitelist|blacklist, locations: [ISO codes]}. Default none.
	GeoRestriction *EdgeGeo `json:"geoRestriction,omitempty"`
	// WAF configures the web ACL.
	WAF EdgeWAF `json:"waf"`
	// ShieldAdvanced protects the distribution with Shield Advanced (3,000 USD/month). Default false.
	ShieldAdvanced bool `json:"shieldAdvanced"`
}

// EdgeGeo restricts viewers by country.
type EdgeGeo struct {
	Type      string   `json:"type"`
	Locations []string `json:"locations"`
}

// EdgeWAF is the web ACL's settings.
type EdgeWAF struct {
	// Action is count or block for every rule; prod must block. Default count / block / block.
	Action string `json:"action"`
	// RateLimit is requests per client IP per 5 minutes. Default 2000 / 500 / 2000.
	RateLimit int `json:"rateLimit"`
	// ManagedRuleGroups are AWS managed rule groups. Default Common, KnownBadInputs, SQLi,
	// AmazonIpReputationList (prod adds AnonymousIpList).
	ManagedRuleGroups []string `json:"managedRuleGroups,omitempty"`
	// BlockCountries, AllowIPs and DenyIPs add geo and IP rules. Default none.
	BlockCountries []string `json:"blockCountries,omitempty"`
	AllowIPs       []string `json:"allowIps,omitempty"`
	DenyIPs        []string `json:"denyIps,omitempty"`
}
