package governor.operational_test

import data.governor.lib.testing
import data.governor.operational

test_no_freeze_no_violation if {
	count(operational.violations) == 0 with input as testing.example_input
}

test_freeze_denies if {
	vs := operational.violations with input as testing.input_with({"context": {"change_freeze": true}})
	vs == {{
		"layer": "operational",
		"rule": "change_freeze",
		"message": "a change freeze is in force: scale_deployment of checkout is blocked until the freeze is lifted",
		"verdict": "deny",
	}}
}

test_freeze_blocks_every_action if {
	vs := operational.violations with input as testing.input_with({"proposal": {"action": "rollback_deployment"}, "context": {"change_freeze": true}})
	{v.rule | some v in vs} == {"change_freeze"}
}

test_unknown_freeze_state_is_a_freeze if {
	vs := operational.violations with input as json.remove(testing.example_input, ["context/change_freeze"])
	{[v.rule, v.verdict] | some v in vs} == {["change_freeze", "deny"]}
}

test_non_boolean_freeze_state_is_a_freeze if {
	vs := operational.violations with input as testing.input_with({"context": {"change_freeze": "no"}})
	{v.rule | some v in vs} == {"change_freeze"}
}
