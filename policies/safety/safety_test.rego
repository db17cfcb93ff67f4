package governor.safety_test

import data.governor.lib.testing
import data.governor.safety

_rules(changes) := {v.rule | some v in safety.violations with input as testing.input_with(changes)}

_messages(changes, rule) := {v.message | some v in testing.of_rule(safety.violations, rule) with input as testing.input_with(changes)}

_scale(from, to) := {"proposal": {"params": {"from_replicas": from, "to_replicas": to}}}

test_example_input_is_safe if {
	count(safety.violations) == 0 with input as testing.example_input
}

test_every_violation_denies if {
	vs := safety.violations with input as testing.input_with(_scale(3, 12))
	count(vs) > 0
	every v in vs {
		v.layer == "safety"
		v.verdict == "deny"
	}
}

# max_scale_up_factor

test_scale_up_4x_is_a_violation if {
	_messages(_scale(3, 12), "max_scale_up_factor") == {"4.0x > 3x per invocation (checkout from 3 to 12 replicas)"}
}

test_scale_up_exactly_3x_is_allowed if {
	not "max_scale_up_factor" in _rules(_scale(4, 12))
}

test_scale_up_just_over_3x_shows_two_decimals if {
	_messages(_scale(100, 301), "max_scale_up_factor") == {"3.01x > 3x per invocation (checkout from 100 to 301 replicas)"}
}

test_scale_up_fractional_factor if {
	_messages(_scale(3, 10), "max_scale_up_factor") == {"3.3x > 3x per invocation (checkout from 3 to 10 replicas)"}
}

test_scale_down_is_never_a_factor_violation if {
	not "max_scale_up_factor" in _rules(_scale(12, 2))
}

test_scale_up_from_zero_is_a_violation if {
	_messages(_scale(0, 2), "max_scale_up_factor") == {"scale-up of checkout from 0 to 2 replicas has no bounded factor; at most 3x per invocation"}
}

test_zero_to_zero_is_not_a_factor_violation if {
	not "max_scale_up_factor" in _rules(object.union(_scale(0, 0), {"context": {"environment": "staging"}}))
}

test_factor_applies_only_to_scaling if {
	not "max_scale_up_factor" in _rules({"proposal": {"action": "rollback_deployment", "params": {"from_replicas": 1, "to_replicas": 10}}})
}

# min_replicas_production

test_scale_to_1_in_production_is_a_violation if {
	_messages(_scale(8, 1), "min_replicas_production") == {"scale checkout to 1 replica(s) < 2 minimum for a production deployment"}
}

test_scale_to_2_in_production_is_allowed if {
	not "min_replicas_production" in _rules(_scale(4, 2))
}

test_scale_to_1_outside_production_is_allowed if {
	not "min_replicas_production" in _rules({"proposal": {"params": {"from_replicas": 2, "to_replicas": 1}}, "context": {"environment": "staging"}})
}

# scale_cooldown

test_scale_within_cooldown_is_a_violation if {
	_messages({"context": {"seconds_since_last_scale": 120}}, "scale_cooldown") == {"checkout was last scaled 120s ago < 300s cooldown between scaling actions on the same deployment (wait 180s more)"}
}

test_scale_within_cooldown_fractional_seconds if {
	_messages({"context": {"seconds_since_last_scale": 299.5}}, "scale_cooldown") == {"checkout was last scaled 299.5s ago < 300s cooldown between scaling actions on the same deployment (wait 0.5s more)"}
}

test_scale_at_cooldown_end_is_allowed if {
	not "scale_cooldown" in _rules({"context": {"seconds_since_last_scale": 300}})
}

test_never_scaled_is_allowed if {
	not "scale_cooldown" in _rules({"context": {"seconds_since_last_scale": null}})
}

test_cooldown_absent_is_allowed if {
	vs := safety.violations with input as json.remove(testing.example_input, ["context/seconds_since_last_scale"])
	count(vs) == 0
}

test_cooldown_applies_only_to_scaling if {
	not "scale_cooldown" in _rules({"proposal": {"action": "patch_resource_limits"}, "context": {"seconds_since_last_scale": 10}})
}

# invalid_params

test_missing_replicas_is_a_violation if {
	vs := safety.violations with input as json.remove(testing.example_input, ["proposal/params/to_replicas"])
	{v.message | some v in vs} == {"scale_deployment needs to_replicas as a whole number of replicas (0 or more); refusing to guess"}
}

test_fractional_replicas_is_a_violation if {
	"invalid_params" in _rules(_scale(8, 12.5))
}

test_string_replicas_is_a_violation if {
	"invalid_params" in _rules(_scale("8", 12))
}

test_negative_replicas_is_a_violation if {
	"invalid_params" in _rules(_scale(-1, 12))
}

test_both_params_missing_names_both if {
	vs := safety.violations with input as json.remove(testing.example_input, ["proposal/params"])
	count(testing.of_rule(vs, "invalid_params")) == 2
}

test_whole_float_replicas_are_accepted if {
	_rules(_scale(8.0, 12.0)) == set()
}

test_params_are_not_checked_for_other_actions if {
	vs := safety.violations with input as json.remove(testing.input_with({"proposal": {"action": "rollback_deployment"}}), ["proposal/params"])
	count(vs) == 0
}

# scale_node_group

_node_group(params) := {"proposal": {"action": "scale_node_group", "target": {"kind": "NodeGroup", "name": "apps"}, "params": params}}

test_node_group_scale_with_whole_counts_is_safe if {
	count(safety.violations) == 0 with input as object.union(testing.example_input, _node_group({"node_group": "apps", "from_nodes": 2, "to_nodes": 3}))
}

test_node_group_scale_needs_whole_counts if {
	vs := safety.violations with input as object.union(testing.example_input, _node_group({"node_group": "apps", "from_nodes": 2, "to_nodes": 2.5}))
	{v.message | some v in vs} == {"scale_node_group needs to_nodes as a whole number of nodes (0 or more); refusing to guess"}
}

test_node_group_scale_is_not_judged_as_a_deployment_scale if {
	# No replicas in its params: the deployment rules do not apply to it.
	not "invalid_params" in {v.rule | some v in safety.violations with input as object.union(testing.example_input, _node_group({"node_group": "apps", "from_nodes": 2, "to_nodes": 4}))}
}
