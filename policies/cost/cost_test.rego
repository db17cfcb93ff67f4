package governor.cost_test

import data.governor.cost
import data.governor.lib.testing

_violations(changes) := vs if {
	vs := cost.violations with input as testing.input_with(changes)
}

_rules(changes) := {v.rule | some v in _violations(changes)}

_one(changes, rule) := v if {
	vs := testing.of_rule(_violations(changes), rule)
	count(vs) == 1
	some v in vs
}

_spent(mtd, delta) := {"context": {"tenant": {"month_to_date_usd": mtd}, "estimated_monthly_cost_delta_usd": delta}}

# Reservations paying for 80% of the tenant's capacity, utilisation target 90%: capacity can shrink
# by up to 28% before the reserved part is used less than 90%.
_reserved(change) := {
	"proposal": {"blast_radius": {"capacity_change_pct": change}},
	"context": {"tenant": {"burn_rate": 0.5, "reserved_instances": {"coverage_pct": 80, "utilization_target_pct": 90}}},
}

test_example_input_has_no_violation if {
	count(cost.violations) == 0 with input as testing.example_input
}

# budget_ceiling

test_within_budget_is_fine if {
	_rules(_spent(18800, 1200)) == set()
}

test_over_budget_requires_approval if {
	_one(_spent(19500, 1200), "budget_ceiling") == {
		"layer": "cost",
		"rule": "budget_ceiling",
		"message": "scale_deployment of checkout adds an estimated $1,200/month: month-to-date $19,500 + $1,200 = $20,700, 103.5% of acme's $20,000 monthly budget: over budget, a human approves the extra spend",
		"verdict": "require_approval",
	}
}

test_at_the_hard_ceiling_still_only_requires_approval if {
	_rules(_spent(20800, 1200)) == {"budget_ceiling"}
}

test_saving_is_never_stopped_by_the_budget if {
	_rules(_spent(25000, -1200)) == set()
	_rules(_spent(25000, 0)) == set()
}

# budget_hard_ceiling

test_far_over_budget_denies if {
	_one(_spent(21000, 1200), "budget_hard_ceiling") == {
		"layer": "cost",
		"rule": "budget_hard_ceiling",
		"message": "scale_deployment of checkout adds an estimated $1,200/month: month-to-date $21,000 + $1,200 = $22,200, 111% of acme's $20,000 monthly budget > 110% hard ceiling: the budget has to be raised before this spend",
		"verdict": "deny",
	}
	not "budget_ceiling" in _rules(_spent(21000, 1200))
}

test_hard_ceiling_is_data if {
	_rules(_spent(21000, 1200)) == {"budget_ceiling"} with data.cost.budget_hard_ceiling_pct as 120
}

test_zero_budget_denies_any_spend if {
	v := _one({"context": {"tenant": {"monthly_budget_usd": 0, "month_to_date_usd": 0}, "estimated_monthly_cost_delta_usd": 50}}, "budget_hard_ceiling")
	v.message == "scale_deployment of checkout adds an estimated $50/month: month-to-date $0 + $50 = $50, over acme's $0 monthly budget > 110% hard ceiling: the budget has to be raised before this spend"
}

# invalid_cost_data, cost_limits_missing

test_invalid_cost_figures_deny if {
	v := _one({"context": {"estimated_monthly_cost_delta_usd": "unknown"}}, "invalid_cost_data")
	v.message == "context.estimated_monthly_cost_delta_usd is missing or not a number: the change's cost cannot be checked against acme's budget"
	v.verdict == "deny"
}

test_missing_budget_denies if {
	vs := cost.violations with input as json.remove(testing.example_input, ["context/tenant/monthly_budget_usd", "context/tenant/month_to_date_usd"])
	{v.message | some v in vs} == {
		"context.tenant.monthly_budget_usd is missing or not a number: the change's cost cannot be checked against acme's budget",
		"context.tenant.month_to_date_usd is missing or not a number: the change's cost cannot be checked against acme's budget",
	}
}

test_missing_hard_ceiling_denies if {
	every ceiling in [null, "110", 90] {
		v := _one({}, "cost_limits_missing") with data.cost.budget_hard_ceiling_pct as ceiling
		v.verdict == "deny"
	}
}

# ri_utilization_target

test_small_reduction_keeps_reservations_used if {
	# 80% reserved, usage 90% of today's capacity: the reservations stay fully used.
	_rules(_reserved(-10)) == set()
}

test_reduction_to_the_target_is_fine if {
	_rules(_reserved(-28)) == set()
}

test_reduction_below_the_target_requires_approval if {
	_one(_reserved(-30), "ri_utilization_target") == {
		"layer": "cost",
		"rule": "ri_utilization_target",
		"message": "capacity change -30% takes acme's reserved-instance utilisation from 100% to 87.5% < 90% target (reservations cover 80% of its capacity): paid-for reservations would sit idle, a human approves",
		"verdict": "require_approval",
	}
}

test_reduction_of_an_over_reserved_tenant if {
	# Reservations for 125% of today's capacity: already 80% used, and any reduction lowers it.
	v := _one(object.union(_reserved(-5), {"context": {"tenant": {"reserved_instances": {"coverage_pct": 125}}}}), "ri_utilization_target")
	v.message == "capacity change -5% takes acme's reserved-instance utilisation from 80% to 76% < 90% target (reservations cover 125% of its capacity): paid-for reservations would sit idle, a human approves"
}

test_scale_up_never_lowers_utilisation if {
	_rules(_reserved(40)) == set()
}

test_no_reservations_no_rule if {
	_rules({"proposal": {"blast_radius": {"capacity_change_pct": -90}}}) == set()
	_rules({"proposal": {"blast_radius": {"capacity_change_pct": -90}}, "context": {"tenant": {"reserved_instances": null}}}) == set()
}

test_removing_all_capacity_reads_as_zero_utilisation if {
	contains(_one(_reserved(-120), "ri_utilization_target").message, "from 100% to 0% < 90% target")
}

# invalid_reserved_instances

test_invalid_reservations_deny if {
	every ri in [{"coverage_pct": 0, "utilization_target_pct": 90}, {"coverage_pct": 80}, {"coverage_pct": "80", "utilization_target_pct": 90}, "all of them"] {
		v := _one({"context": {"tenant": {"reserved_instances": ri}}}, "invalid_reserved_instances")
		v.message == "context.tenant.reserved_instances of acme needs coverage_pct > 0 and utilization_target_pct as numbers: the reservations cannot be checked"
		v.verdict == "deny"
	}
}
