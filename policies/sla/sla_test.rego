package governor.sla_test

import data.governor.lib.testing
import data.governor.sla

_violations(changes) := vs if {
	vs := sla.violations with input as testing.input_with(changes)
}

_rules(changes) := {v.rule | some v in _violations(changes)}

_one(changes, rule) := v if {
	vs := testing.of_rule(_violations(changes), rule)
	count(vs) == 1
	some v in vs
}

_scale(from, to) := {"proposal": {"params": {"from_replicas": from, "to_replicas": to}}}

_burning(rate) := {"context": {"tenant": {"burn_rate": rate}}}

_scale_down := {"proposal": {"params": {"from_replicas": 12, "to_replicas": 8}, "blast_radius": {"capacity_change_pct": -10}}}

test_example_input_has_no_violation if {
	count(sla.violations) == 0 with input as testing.example_input
}

# max_replicas_entitlement

test_scale_beyond_entitlement_requires_approval if {
	_one(_scale(30, 44), "max_replicas_entitlement") == {
		"layer": "sla",
		"rule": "max_replicas_entitlement",
		"message": "scale checkout to 44 replicas > 40 replicas acme is entitled to (enterprise tier): exceeding the entitlement needs a human approval",
		"verdict": "require_approval",
	}
}

test_scale_to_entitlement_is_fine if {
	not "max_replicas_entitlement" in _rules(_scale(30, 40))
}

test_scale_down_above_entitlement_is_fine if {
	# Back toward the contract; a healthy tenant, so only the entitlement is in question.
	not "max_replicas_entitlement" in _rules(object.union(_scale(50, 45), _burning(0.5)))
}

test_entitlement_is_the_tenants_own if {
	"max_replicas_entitlement" in _rules({"context": {"tenant": {"max_replicas": 10}}})
}

test_entitlement_applies_only_to_scaling if {
	not "max_replicas_entitlement" in _rules(object.union(_scale(30, 44), {"proposal": {"action": "patch_resource_limits"}}))
}

test_entitlement_not_checked_on_unreadable_params if {
	# governor.safety denies those (invalid_params); no second guess here.
	not "max_replicas_entitlement" in _rules(_scale("30", 44))
}

# fast_burn_capacity_reduction

test_scale_down_of_a_fast_burning_tenant_denies if {
	_one(_scale_down, "fast_burn_capacity_reduction") == {
		"layer": "sla",
		"rule": "fast_burn_capacity_reduction",
		"message": "acme is burning its error budget at 2.1x >= 2x (fast burn for the enterprise tier): scale_deployment of checkout would remove capacity while its SLA is at risk",
		"verdict": "deny",
	}
}

test_scale_down_of_a_healthy_tenant_is_fine if {
	_rules(object.union(_scale_down, _burning(1.9))) == set()
}

test_scale_up_of_a_fast_burning_tenant_is_fine if {
	# The seed incident: more capacity is what a burning tenant needs.
	_rules(_burning(20)) == set()
}

test_fast_burn_threshold_is_per_tier if {
	not "fast_burn_capacity_reduction" in _rules(object.union(_scale_down, {"context": {"tenant": {"tier": "premium", "burn_rate": 3}}}))
	"fast_burn_capacity_reduction" in _rules(object.union(_scale_down, {"context": {"tenant": {"tier": "premium", "burn_rate": 4}}}))
	not "fast_burn_capacity_reduction" in _rules(object.union(_scale_down, {"context": {"tenant": {"tier": "free", "burn_rate": 14}}}))
}

test_fast_burn_thresholds_are_data if {
	not "fast_burn_capacity_reduction" in _rules(_scale_down) with data.sla.tiers.enterprise.fast_burn_rate as 3
}

test_negative_capacity_change_is_a_reduction if {
	"fast_burn_capacity_reduction" in _rules({"proposal": {"action": "patch_resource_limits", "blast_radius": {"capacity_change_pct": -5}}})
}

test_fewer_replicas_is_a_reduction_whatever_the_radius_says if {
	"fast_burn_capacity_reduction" in _rules(_scale(12, 8))
}

test_no_capacity_change_is_not_a_reduction if {
	not "fast_burn_capacity_reduction" in _rules({"proposal": {"action": "patch_resource_limits", "blast_radius": {"capacity_change_pct": 0}}})
}

# fast_burn_throttle

test_throttling_a_fast_burning_tenant_requires_approval if {
	_one({"proposal": {"agent": "arbitrator", "action": "throttle_tenant", "blast_radius": {"capacity_change_pct": 0}}}, "fast_burn_throttle") == {
		"layer": "sla",
		"rule": "fast_burn_throttle",
		"message": "acme is burning its error budget at 2.1x >= 2x (fast burn for the enterprise tier): throttle_tenant of checkout trades its SLA against its co-tenants' and needs a human approval",
		"verdict": "require_approval",
	}
}

test_quota_cut_of_a_fast_burning_tenant_requires_approval if {
	rules := _rules({"proposal": {"action": "adjust_quota", "blast_radius": {"capacity_change_pct": -20}}})
	rules == {"fast_burn_throttle"}
}

test_quota_raise_of_a_fast_burning_tenant_is_fine if {
	_rules({"proposal": {"action": "adjust_quota", "blast_radius": {"capacity_change_pct": 20}}}) == set()
}

test_throttling_a_healthy_tenant_is_fine if {
	_rules(object.union({"proposal": {"action": "throttle_tenant"}}, _burning(1))) == set()
}

# tier_supervised_action

test_enterprise_rollback_is_supervised_by_contract if {
	_one({"proposal": {"action": "rollback_deployment"}}, "tier_supervised_action") == {
		"layer": "sla",
		"rule": "tier_supervised_action",
		"message": "rollback_deployment is supervised by contract for enterprise tier tenants: a human approves it for acme before it runs",
		"verdict": "require_approval",
	}
}

test_enterprise_config_changes_are_supervised if {
	every action in ["update_config", "set_feature_flag"] {
		"tier_supervised_action" in _rules({"proposal": {"action": action}})
	}
}

test_standard_tier_config_change_is_not_supervised if {
	not "tier_supervised_action" in _rules({"proposal": {"action": "update_config"}, "context": {"tenant": {"tier": "standard"}}})
}

test_enterprise_scaling_is_not_supervised if {
	not "tier_supervised_action" in _rules({})
}

# unknown_tier, sla_terms_missing, invalid_tenant_sla

test_unknown_tier_denies if {
	_one({"context": {"tenant": {"tier": "gold"}}}, "unknown_tier").message == "acme's tier 'gold' has no SLA terms in the policy data: its contract cannot be checked"
}

test_missing_tier_denies if {
	vs := sla.violations with input as json.remove(testing.example_input, ["context/tenant/tier"])
	{[v.rule, v.message] | some v in vs} == {["unknown_tier", "acme's tier (none) has no SLA terms in the policy data: its contract cannot be checked"]}
}

test_missing_burn_threshold_denies if {
	v := _one({}, "sla_terms_missing") with data.sla.tiers.enterprise as {"supervised_actions": []}
	v.message == "the policy data has no fast-burn threshold (fast_burn_rate) for the enterprise tier: a burning tenant cannot be protected"
	v.verdict == "deny"
}

test_missing_tier_supervision_denies if {
	v := _one({}, "sla_terms_missing") with data.sla.tiers.enterprise as {"fast_burn_rate": 2}
	v.message == "the policy data has no list of supervised actions for the enterprise tier: the contract's supervision cannot be checked"
}

test_missing_throttling_actions_denies if {
	"sla_terms_missing" in _rules({}) with data.sla.throttling_actions as "throttle_tenant"
}

test_invalid_burn_rate_denies if {
	v := _one(_burning("high"), "invalid_tenant_sla")
	v.message == "context.tenant.burn_rate is missing or not a number: acme's SLA terms cannot be checked"
	v.verdict == "deny"
}

test_missing_max_replicas_denies if {
	vs := sla.violations with input as json.remove(testing.example_input, ["context/tenant/max_replicas"])
	{v.rule | some v in vs} == {"invalid_tenant_sla"}
}

# unknown tenants: the most restrictive tier, assumed

_unknown := {"context": {"tenant": {"tier": "restricted", "known": false, "assumed_reason": "tenant zeta is not in the tenants file: the most restrictive tier 'restricted' is assumed"}}}

test_unknown_tenant_requires_approval_and_says_why if {
	v := _one(_unknown, "unknown_tenant")
	v.verdict == "require_approval"
	v.message == "tenant zeta is not in the tenants file: the most restrictive tier 'restricted' is assumed: scale_deployment of checkout needs a human approval"
}

test_restricted_tier_supervises_every_action if {
	some action in ["scale_deployment", "patch_resource_limits", "rollback_deployment", "throttle_tenant"]
	"tier_supervised_action" in _rules(object.union(_unknown, {"proposal": {"action": action}}))
}

test_known_tenant_is_not_unknown if {
	not "unknown_tenant" in _rules({"context": {"tenant": {"known": true}}})
	not "unknown_tenant" in _rules({})
}

test_restricted_tier_keeps_to_the_level_3_capacity_change if {
	not "tier_capacity_change" in _rules(object.union(_unknown, {"proposal": {"blast_radius": {"capacity_change_pct": 30}}}))
	v := _one(object.union(_unknown, {"proposal": {"blast_radius": {"capacity_change_pct": -40}}}), "tier_capacity_change")
	v.verdict == "deny"
}

test_tiers_without_a_capacity_term_have_no_such_limit if {
	not "tier_capacity_change" in _rules({"proposal": {"blast_radius": {"capacity_change_pct": 45}}})
}
