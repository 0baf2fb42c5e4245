package stacks

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
}
