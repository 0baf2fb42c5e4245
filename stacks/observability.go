package stacks

import "strings"

// Monitoring is alerting and cost monitoring (scalemate:monitoring). Field checks are the
// monitoring component's; alarm thresholds are per tier, in infra.
type Monitoring struct {
	// WarningEmails get every alarm and the budget notices. Default the platform team's list
	// (a placeholder until the first deploy; README, "Before the first deploy").
	WarningEmails []string `json:"warningEmails"`
	// CriticalEmails are paged by critical alarms, beside scalemate:onCallWebhookUrl. Default
	// none (dev, staging), the on-call list (prod).
	CriticalEmails []string `json:"criticalEmails,omitempty"`
	// MonthlyBudgetUSD is the AWS Budgets limit, alerting at 80 % and 100 % of actual spend and
	// on the forecast. Default 400 / 1500 / 5000, the cost pack's budgets.
	MonthlyBudgetUSD float64 `json:"monthlyBudgetUsd"`
	// IncidentContacts are the on-call rotation of Incident Manager, engaged in order by email
	// when a critical alarm starts an incident (each activates its channel once). Default none:
	// no incidents, critical alarms page by email and webhook only.
	IncidentContacts []IncidentContact `json:"incidentContacts,omitempty"`
	// EscalationStageMinutes is how long a contact has to acknowledge before the next one is
	// engaged, 1 to 30. Default 10.
	EscalationStageMinutes int `json:"escalationStageMinutes,omitempty"`
	// Canaries are the public paths CloudWatch Synthetics requests through the CDN, by check
	// key (the canary <stack>-<key>): their success alarms page, and they and the latency
	// alarms roll a deployment back. Default home: "/", and per routed service whose readiness
	// path lies under its route (api: /api/healthz/ready) that path; a key set to "" drops a
	// default check.
	Canaries map[string]string `json:"canaries,omitempty"`
	// CanaryMinutes is how often each check runs, 1 to 60; 0 runs none (not in prod).
	// Default 15 / 5 / 1.
	CanaryMinutes int `json:"canaryMinutes"`
}

// withCanaryDefaults adds a check per routed service whose readiness path is public (under its
// route), unless the stack names that key itself.
func (m *Monitoring) withCanaryDefaults(services map[string]Service) {
	for name, svc := range services {
		prefix, ok := strings.CutSuffix(svc.Route, "*")
		if _, set := m.Canaries[name]; set || !ok || prefix == "/" || !strings.HasPrefix(svc.ReadinessPath, prefix) {
			continue
		}
		if m.Canaries == nil {
			m.Canaries = map[string]string{}
		}
		m.Canaries[name] = svc.ReadinessPath
	}
}

// CanaryChecks are the checks that run: the non-empty paths, none when CanaryMinutes is 0.
func (m Monitoring) CanaryChecks() map[string]string {
	if m.CanaryMinutes == 0 {
		return nil
	}
	out := map[string]string{}
	for key, path := range m.Canaries {
		if path != "" {
			out[key] = path
		}
	}
	return out
}

// IncidentContact is one person on call.
type IncidentContact struct {
	// Alias is the contact's id in Incident Manager (lower-case letters, digits, '-', '_').
	Alias string `json:"alias"`
	// Name is shown in incidents. Default the alias.
	Name string `json:"name,omitempty"`
	// Email is where the contact is engaged.
	Email string `json:"email"`
}
