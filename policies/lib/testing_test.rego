# Inputs shared by the policy tests: the DESIGN §5 example, and that example with changes merged in.
# Only the tests load this file; the bundle leaves every *_test.rego out.
package governor.lib.testing

example_input := {
	"proposal": {
		"id": "7d0c5e2a",
		"agent": "elastik",
		"tenant": "acme",
		"namespace": "acme-prod",
		"action": "scale_deployment",
		"target": {"kind": "Deployment", "name": "checkout"},
		"params": {"from_replicas": 8, "to_replicas": 12},
		"blast_radius": {"tenants": 1, "services": 1, "capacity_change_pct": 10},
	},
	"context": {
		"now": "2026-11-24T10:00:00Z",
		"agent_level": 3,
		"environment": "production",
		"change_freeze": false,
		"seconds_since_last_scale": 900,
		"in_flight_actions": 0,
		"tenant": {
			"tier": "enterprise",
			"burn_rate": 2.1,
			"max_replicas": 40,
			"monthly_budget_usd": 20000,
			"month_to_date_usd": 9000,
		},
		"estimated_monthly_cost_delta_usd": 1200,
	},
}

# Objects merge recursively, so a change names only what differs from the example.
input_with(changes) := object.union(example_input, changes)

# The violations of one rule, for tests that look at a rule's message.
of_rule(violations, rule) := {v | some v in violations; v.rule == rule}
