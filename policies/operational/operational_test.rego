package governor.operational_test

import data.governor.lib.testing
import data.governor.operational

_violations(changes) := vs if {
	vs := operational.violations with input as testing.input_with(changes)
}

_rules(changes) := {v.rule | some v in _violations(changes)}

_messages(changes, rule) := {v.message | some v in testing.of_rule(_violations(changes), rule)}

_black_friday := {"name": "black-friday", "until": "2026-11-30T23:00:00.000Z", "scope": "tenant"}

_new_year := {"name": "new-year", "until": "2027-01-02T08:00:00.000Z", "scope": "global"}

_frozen(freezes) := {"context": {"change_freeze": true, "active_freezes": freezes}}

_override(by, reason) := {"context": {"freeze_override": {"by": by, "reason": reason}}}

test_example_input_has_no_violation if {
	count(operational.violations) == 0 with input as testing.example_input
}

# change_freeze

test_unnamed_freeze_denies if {
	_violations({"context": {"change_freeze": true}}) == {{
		"layer": "operational",
		"rule": "change_freeze",
		"message": "a change freeze is in force: scale_deployment of checkout is blocked; only a human override with a reason can let it through",
		"verdict": "deny",
	}}
}

test_named_freeze_denies_with_its_name_and_end if {
	_messages(_frozen([_black_friday]), "change_freeze") == {"change freeze 'black-friday' (until 2026-11-30T23:00:00.000Z) is in force: scale_deployment of checkout is blocked; only a human override with a reason can let it through"}
}

test_every_freeze_in_force_is_named if {
	_messages(_frozen([_black_friday, _new_year]), "change_freeze") == {
		"change freeze 'black-friday' (until 2026-11-30T23:00:00.000Z) is in force: scale_deployment of checkout is blocked; only a human override with a reason can let it through",
		"global change freeze 'new-year' (until 2027-01-02T08:00:00.000Z) is in force: scale_deployment of checkout is blocked; only a human override with a reason can let it through",
	}
}

test_freeze_blocks_every_action if {
	every action in ["rollback_deployment", "update_config", "cordon_node", "throttle_tenant"] {
		_rules(object.union(_frozen([_black_friday]), {"proposal": {"action": action}})) == {"change_freeze"}
	}
}

test_named_freeze_denies_even_if_the_flag_disagrees if {
	_rules({"context": {"change_freeze": false, "active_freezes": [_black_friday]}}) == {"change_freeze"}
}

test_no_freeze_with_empty_list if {
	_rules({"context": {"change_freeze": false, "active_freezes": []}}) == set()
}

test_freeze_fields_missing_are_named_plainly if {
	_messages(_frozen([{}]), "change_freeze") == {"change freeze 'unnamed' (until further notice) is in force: scale_deployment of checkout is blocked; only a human override with a reason can let it through"}
}

test_unknown_freeze_state_is_a_freeze if {
	vs := operational.violations with input as json.remove(testing.example_input, ["context/change_freeze"])
	{[v.rule, v.verdict] | some v in vs} == {["change_freeze", "deny"]}
}

test_non_boolean_freeze_state_is_a_freeze if {
	_rules({"context": {"change_freeze": "no"}}) == {"change_freeze"}
}

test_malformed_active_freezes_is_a_freeze if {
	every active in ["black-friday", [1], {"name": "x"}] {
		vs := _violations({"context": {"active_freezes": active}})
		{[v.rule, v.verdict] | some v in vs} == {["change_freeze", "deny"]}
	}
}

test_unknown_freeze_state_cannot_be_overridden if {
	vs := _violations(object.union({"context": {"change_freeze": "yes"}}, _override("alice", "INC-42")))
	{[v.rule, v.verdict] | some v in vs} == {["change_freeze", "deny"]}
}

# change_freeze_override

test_override_turns_the_freeze_into_an_approval if {
	vs := _violations(object.union(_frozen([_black_friday]), _override("alice", "INC-42: checkout down")))
	vs == {{
		"layer": "operational",
		"rule": "change_freeze_override",
		"message": "change freeze 'black-friday' (until 2026-11-30T23:00:00.000Z) is overridden by alice (reason: INC-42: checkout down): scale_deployment of checkout still needs a human approval, and every safety limit still applies",
		"verdict": "require_approval",
	}}
}

test_override_covers_every_freeze_in_force if {
	vs := _violations(object.union(_frozen([_black_friday, _new_year]), _override("alice", "INC-42")))
	{[v.rule, v.verdict] | some v in vs} == {["change_freeze_override", "require_approval"]}
	count(vs) == 2
}

test_override_without_a_freeze_is_nothing if {
	_rules(_override("alice", "INC-42")) == set()
}

test_override_without_reason_is_refused if {
	every override in [_override("alice", ""), _override("alice", "   "), _override("", "INC-42"), _override("alice", 42), {"context": {"freeze_override": {"by": "alice"}}}, {"context": {"freeze_override": "alice"}}] {
		_messages(object.union(_frozen([_black_friday]), override), "change_freeze") == {"change freeze 'black-friday' (until 2026-11-30T23:00:00.000Z) is in force: scale_deployment of checkout is blocked; the override given was refused: it needs who overrides it (by) and a non-empty reason"}
		not "change_freeze_override" in _rules(object.union(_frozen([_black_friday]), override))
	}
}

# concurrent_actions

test_in_flight_below_limit_is_fine if {
	not "concurrent_actions" in _rules({"context": {"in_flight_actions": 3}})
}

test_in_flight_at_limit_requires_approval if {
	vs := testing.of_rule(_violations({"context": {"in_flight_actions": 4}}), "concurrent_actions")
	vs == {{
		"layer": "operational",
		"rule": "concurrent_actions",
		"message": "acme already has 4 action(s) in flight >= 4 concurrent actions for the enterprise tier: one more needs a human approval",
		"verdict": "require_approval",
	}}
}

test_concurrency_limit_is_per_tier if {
	"concurrent_actions" in _rules({"context": {"in_flight_actions": 1, "tenant": {"tier": "free"}}})
	not "concurrent_actions" in _rules({"context": {"in_flight_actions": 1, "tenant": {"tier": "standard"}}})
}

test_concurrency_limits_are_data if {
	"concurrent_actions" in _rules({}) with data.operational.max_in_flight_actions.enterprise as 0
}

# invalid_in_flight_actions, concurrent_actions_limit_missing

test_invalid_in_flight_denies if {
	every n in [-1, "2", null] {
		vs := testing.of_rule(_violations({"context": {"in_flight_actions": n}}), "invalid_in_flight_actions")
		{v.verdict | some v in vs} == {"deny"}
	}
}

test_missing_in_flight_denies if {
	vs := operational.violations with input as json.remove(testing.example_input, ["context/in_flight_actions"])
	{v.rule | some v in vs} == {"invalid_in_flight_actions"}
}

test_unknown_tier_has_no_concurrency_limit if {
	_messages({"context": {"tenant": {"tier": "gold"}}}, "concurrent_actions_limit_missing") == {"the policy data has no concurrent-action limit for the gold tier: nothing is within an unknown limit"}
}

test_missing_concurrency_table_denies if {
	"concurrent_actions_limit_missing" in _rules({}) with data.operational as {"action_cooldown_s": {}}
}

# action_cooldown

_rollback(since) := {"proposal": {"action": "rollback_deployment"}, "context": {"seconds_since_last_action": {"rollback_deployment": since}}}

test_rollback_within_cooldown_requires_approval if {
	vs := testing.of_rule(_violations(_rollback(600)), "action_cooldown")
	vs == {{
		"layer": "operational",
		"rule": "action_cooldown",
		"message": "the last rollback_deployment of checkout was 10 min ago < 30 min cooldown for the same target: repeating it so soon needs a human approval",
		"verdict": "require_approval",
	}}
}

test_cooldown_short_intervals_in_seconds if {
	_messages(_rollback(45), "action_cooldown") == {"the last rollback_deployment of checkout was 45s ago < 30 min cooldown for the same target: repeating it so soon needs a human approval"}
}

test_rollback_after_cooldown_is_fine if {
	not "action_cooldown" in _rules(_rollback(1800))
}

test_never_rolled_back_is_fine if {
	not "action_cooldown" in _rules(_rollback(null))
	not "action_cooldown" in _rules({"proposal": {"action": "rollback_deployment"}})
}

test_cooldown_is_per_action if {
	# The last rollback says nothing about a config change.
	not "action_cooldown" in _rules(object.union(_rollback(60), {"proposal": {"action": "update_config"}}))
	"action_cooldown" in _rules({"proposal": {"action": "update_config"}, "context": {"seconds_since_last_action": {"update_config": 60}}})
}

test_scaling_has_no_operational_cooldown if {
	# Scaling cooldowns are a hard limit in governor.safety, not data here.
	not "action_cooldown" in _rules({"context": {"seconds_since_last_action": {"scale_deployment": 1}}})
}

test_cooldowns_are_data if {
	not "action_cooldown" in _rules(_rollback(600)) with data.operational.action_cooldown_s.rollback_deployment as 300
}

# invalid_last_action

test_invalid_last_action_denies if {
	vs := testing.of_rule(_violations(_rollback("ten minutes")), "invalid_last_action")
	{v.message | some v in vs} == {"context.seconds_since_last_action.rollback_deployment is not a number of seconds or null: the cooldown cannot be checked"}
}

test_last_action_not_an_object_denies if {
	_messages({"context": {"seconds_since_last_action": [600]}}, "invalid_last_action") == {"context.seconds_since_last_action is not an object of seconds per action: the cooldowns cannot be checked"}
	not "invalid_last_action" in _rules({"context": {"seconds_since_last_action": null}})
}
