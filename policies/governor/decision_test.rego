package governor.decision_test

import data.governor.decision
import data.governor.lib.testing

_decide(changes) := d if {
	d := decision.decision with input as testing.input_with(changes)
}

_rules(changes) := [v.rule | some v in _decide(changes).violations]

_at(level, radius) := {"context": {"agent_level": level}, "proposal": {"blast_radius": radius}}

# A tenant within its error budget: capacity can be taken away without the SLA layer objecting.
_healthy := {"context": {"tenant": {"burn_rate": 0.5}}}

# DESIGN §5, one case per sentence of the semantics.

test_example_input_is_allowed if {
	decision.decision == {"verdict": "allow", "violations": []} with input as testing.example_input
}

test_safety_violation_denies_at_every_level if {
	every level in [1, 2, 3] {
		d := _decide({"proposal": {"params": {"from_replicas": 3, "to_replicas": 12}}, "context": {"agent_level": level}})
		d.verdict == "deny"
		"max_scale_up_factor" in {v.rule | some v in d.violations}
	}
}

test_safety_violation_outranks_supervision if {
	changes := {"proposal": {"params": {"from_replicas": 8, "to_replicas": 1}}, "context": {"agent_level": 2, "tenant": {"burn_rate": 0.5}}}
	_decide(changes).verdict == "deny"
	_rules(changes) == ["min_replicas_production", "level_2_supervised"]
}

test_change_freeze_denies if {
	d := _decide({"context": {"change_freeze": true}})
	d.verdict == "deny"
	[v.rule | some v in d.violations] == ["change_freeze"]
}

test_level_1_never_allows if {
	every action in ["scale_deployment", "rollback_deployment", "update_config", "recommendation"] {
		_decide({"proposal": {"action": action}, "context": {"agent_level": 1}}).verdict == "deny"
	}
}

test_level_1_within_every_limit_still_denies if {
	d := _decide(_at(1, {"tenants": 0, "services": 0, "capacity_change_pct": 0}))
	d.verdict == "deny"
	[v.rule | some v in d.violations] == ["level_1_advisory"]
}

test_recommendation_is_never_executed if {
	d := _decide({"proposal": {"agent": "strategist", "action": "recommendation", "params": {}}, "context": {"agent_level": 1}})
	d.verdict == "deny"
	[v.rule | some v in d.violations] == ["level_1_advisory", "recommendation_only"]
}

test_level_3_within_level_3_radius_allows if {
	_decide(_at(3, {"tenants": 1, "services": 2, "capacity_change_pct": 30})).verdict == "allow"
}

test_level_3_beyond_level_3_within_level_2_requires_approval if {
	d := _decide(_at(3, {"capacity_change_pct": 40}))
	d.verdict == "require_approval"
	[v.rule | some v in d.violations] == ["blast_radius_level_3"]
}

test_level_3_beyond_level_2_denies if {
	d := _decide(_at(3, {"capacity_change_pct": 60}))
	d.verdict == "deny"
	[v.rule | some v in d.violations] == ["blast_radius_level_2"]
}

test_level_2_within_limits_requires_approval if {
	d := _decide(object.union(_at(2, {"tenants": 3, "services": 5, "capacity_change_pct": -50}), _healthy))
	d.verdict == "require_approval"
	[v.rule | some v in d.violations] == ["level_2_supervised"]
}

test_level_2_beyond_limits_denies if {
	d := _decide(_at(2, {"tenants": 4}))
	d.verdict == "deny"
	[v.rule | some v in d.violations] == ["blast_radius_level_2", "level_2_supervised"]
}

test_supervised_action_at_level_3_requires_approval if {
	d := _decide({"proposal": {"action": "rollback_deployment", "params": {"revision": 41}, "blast_radius": {"capacity_change_pct": 0}}})
	d.verdict == "require_approval"
	[v.rule | some v in d.violations] == ["supervised_action", "tier_supervised_action"]
}

test_supervised_action_is_at_most_require_approval if {
	every action in data.autonomy.supervised_actions {
		_decide({"proposal": {"action": action}}).verdict != "allow"
	}
}

test_supervised_action_still_denied_beyond_level_2 if {
	d := _decide({"proposal": {"action": "cordon_node", "blast_radius": {"tenants": 4}}})
	d.verdict == "deny"
}

test_every_blast_radius_dimension_applies if {
	every radius in [{"tenants": 2}, {"services": 3}, {"capacity_change_pct": 31}, {"capacity_change_pct": -31}] {
		_decide(object.union(_at(3, radius), _healthy)).verdict == "require_approval"
	}
	every radius in [{"tenants": 4}, {"services": 6}, {"capacity_change_pct": 51}, {"capacity_change_pct": -51}] {
		_decide(object.union(_at(3, radius), _healthy)).verdict == "deny"
	}
}

# The shape of the answer.

test_violations_carry_layer_rule_message_only if {
	d := _decide({"proposal": {"params": {"from_replicas": 3, "to_replicas": 12}}, "context": {"change_freeze": true, "agent_level": 2}})
	every v in d.violations {
		object.keys(v) == {"layer", "rule", "message"}
	}
}

test_violations_most_restrictive_first_then_by_layer if {
	d := _decide({
		"proposal": {"params": {"from_replicas": 3, "to_replicas": 12}, "blast_radius": {"tenants": 2}},
		"context": {"change_freeze": true, "seconds_since_last_scale": 60},
	})
	d.verdict == "deny"
	[[v.layer, v.rule] | some v in d.violations] == [
		["operational", "change_freeze"],
		["safety", "max_scale_up_factor"],
		["safety", "scale_cooldown"],
		["blast_radius", "blast_radius_level_3"],
	]
}

test_unknown_finding_verdict_fails_closed if {
	d := decision.decision with input as testing.example_input
		with data.governor.operational.violations as {{"layer": "operational", "rule": "typo", "message": "m", "verdict": "requires_approval"}}
	d.verdict == "deny"
}

test_empty_input_denies if {
	d := decision.decision with input as {}
	d.verdict == "deny"
}

# The four layers meet here (DESIGN §4): each one's findings reach the verdict.

test_seed_scale_is_allowed_and_seed_rollback_supervised if {
	_decide({}).verdict == "allow"
	_decide({"proposal": {"action": "rollback_deployment", "params": {"from_revision": 42, "to_revision": 41}, "blast_radius": {"capacity_change_pct": 0}}}).verdict == "require_approval"
}

test_sla_layer_reaches_the_verdict if {
	d := _decide({"proposal": {"params": {"from_replicas": 30, "to_replicas": 44}}})
	d.verdict == "require_approval"
	[[v.layer, v.rule] | some v in d.violations] == [["sla", "max_replicas_entitlement"]]
}

test_sla_deny_reaches_the_verdict if {
	d := _decide({"proposal": {"params": {"from_replicas": 12, "to_replicas": 8}, "blast_radius": {"capacity_change_pct": -10}}})
	d.verdict == "deny"
	[[v.layer, v.rule] | some v in d.violations] == [["sla", "fast_burn_capacity_reduction"]]
}

test_cost_layer_reaches_the_verdict if {
	d := _decide({"context": {"tenant": {"month_to_date_usd": 19500}}})
	d.verdict == "require_approval"
	[[v.layer, v.rule] | some v in d.violations] == [["cost", "budget_ceiling"]]
	_decide({"context": {"tenant": {"month_to_date_usd": 21000}}}).verdict == "deny"
}

test_operational_layer_reaches_the_verdict if {
	d := _decide({"context": {"in_flight_actions": 4}})
	d.verdict == "require_approval"
	[[v.layer, v.rule] | some v in d.violations] == [["operational", "concurrent_actions"]]
}

# A change freeze: deny, unless a human overrides it with a reason; then at most require_approval,
# and the safety layer still applies in full.

_freeze := {"context": {"change_freeze": true, "active_freezes": [{"name": "black-friday", "until": "2026-11-30T23:00:00.000Z", "scope": "tenant"}]}}

_override := {"context": {"freeze_override": {"by": "alice", "reason": "INC-42: checkout down, scale-up needed"}}}

test_named_freeze_denies if {
	d := _decide(_freeze)
	d.verdict == "deny"
	[v.rule | some v in d.violations] == ["change_freeze"]
}

test_freeze_override_requires_approval if {
	d := _decide(object.union(_freeze, _override))
	d.verdict == "require_approval"
	[v.rule | some v in d.violations] == ["change_freeze_override"]
}

test_freeze_override_never_allows_at_any_level if {
	every level in [1, 2, 3] {
		_decide(object.union(object.union(_freeze, _override), {"context": {"agent_level": level}})).verdict != "allow"
	}
}

test_freeze_override_does_not_lift_safety if {
	d := _decide(object.union(object.union(_freeze, _override), {"proposal": {"params": {"from_replicas": 3, "to_replicas": 12}}}))
	d.verdict == "deny"
	[v.rule | some v in d.violations] == ["max_scale_up_factor", "change_freeze_override"]
}

test_freeze_override_without_reason_still_denies if {
	d := _decide(object.union(_freeze, {"context": {"freeze_override": {"by": "alice", "reason": "  "}}}))
	d.verdict == "deny"
	[v.rule | some v in d.violations] == ["change_freeze"]
}
