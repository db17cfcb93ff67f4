package governor.autonomy_test

import data.governor.autonomy
import data.governor.lib.testing

_violations(changes) := vs if {
	vs := autonomy.violations with input as testing.input_with(changes)
}

_rules(changes) := {v.rule | some v in _violations(changes)}

_at(level, radius) := {"context": {"agent_level": level}, "proposal": {"blast_radius": radius}}

_one(changes, rule) := v if {
	vs := testing.of_rule(_violations(changes), rule)
	count(vs) == 1
	some v in vs
}

test_level_3_within_its_radius_has_no_violation if {
	count(autonomy.violations) == 0 with input as testing.example_input
}

test_level_3_at_its_limits_has_no_violation if {
	_rules(_at(3, {"tenants": 1, "services": 2, "capacity_change_pct": -30})) == set()
}

# level_1_advisory

test_level_1_denies if {
	_one({"context": {"agent_level": 1}}, "level_1_advisory") == {
		"layer": "autonomy",
		"rule": "level_1_advisory",
		"message": "elastik is at autonomy level 1 (advisory): it recommends and a human executes; Governor does not execute at level 1",
		"verdict": "deny",
	}
}

test_level_1_rule_only_at_level_1 if {
	every level in [2, 3] {
		not "level_1_advisory" in _rules({"context": {"agent_level": level}})
	}
}

# recommendation_only

test_recommendation_denies_at_any_level if {
	every level in [1, 2, 3] {
		v := _one({"proposal": {"agent": "elastik", "action": "recommendation"}, "context": {"agent_level": level}}, "recommendation_only")
		v.verdict == "deny"
	}
}

# level_2_supervised

test_level_2_requires_approval if {
	v := _one({"context": {"agent_level": 2}}, "level_2_supervised")
	v.verdict == "require_approval"
	v.message == "elastik is at autonomy level 2 (supervised): it executes only after a human approves"
}

test_level_2_rule_not_at_level_3 if {
	not "level_2_supervised" in _rules({})
}

# supervised_action

test_rollback_is_supervised_at_level_3 if {
	v := _one({"proposal": {"action": "rollback_deployment"}}, "supervised_action")
	v.verdict == "require_approval"
	v.message == "rollback_deployment is supervised at every autonomy level: a human approves it before it runs"
}

test_cordon_is_supervised if {
	"supervised_action" in _rules({"proposal": {"action": "cordon_node"}})
}

test_scaling_is_not_supervised if {
	not "supervised_action" in _rules({})
}

test_supervised_actions_are_data if {
	"supervised_action" in _rules({}) with data.autonomy.supervised_actions as ["scale_deployment"]
}

test_non_list_supervised_actions_denies if {
	v := _one({}, "supervised_actions_missing") with data.autonomy.supervised_actions as null
	v.verdict == "deny"
}

test_absent_supervised_actions_denies if {
	vs := autonomy.violations with input as testing.example_input with data.autonomy as {"blast_radius": data.autonomy.blast_radius, "agent_max_level": data.autonomy.agent_max_level}
	{v.rule | some v in vs} == {"supervised_actions_missing"}
}

test_absent_agent_levels_deny if {
	vs := autonomy.violations with input as testing.example_input with data.autonomy as {"blast_radius": data.autonomy.blast_radius, "supervised_actions": []}
	{v.rule | some v in vs} == {"unknown_agent"}
}

# level_above_agent_maximum, unknown_agent, invalid_agent_level

test_level_above_maximum_denies if {
	v := _one({"proposal": {"agent": "watchtower"}, "context": {"agent_level": 3}}, "level_above_agent_maximum")
	v.verdict == "deny"
	v.message == "watchtower is reported at autonomy level 3, above its maximum of 2"
}

test_invalid_level_is_not_also_above_maximum if {
	rules := _rules({"proposal": {"agent": "strategist"}, "context": {"agent_level": "3"}})
	"invalid_agent_level" in rules
	not "level_above_agent_maximum" in rules
}

test_level_at_maximum_is_fine if {
	not "level_above_agent_maximum" in _rules({"proposal": {"agent": "configurer"}, "context": {"agent_level": 2}})
}

test_unknown_agent_denies if {
	"unknown_agent" in _rules({"proposal": {"agent": "mallory"}})
}

test_invalid_level_denies if {
	every level in [0, 4, 2.5, "3", null] {
		v := _one({"context": {"agent_level": level}}, "invalid_agent_level")
		v.verdict == "deny"
	}
}

test_missing_level_denies if {
	vs := autonomy.violations with input as json.remove(testing.example_input, ["context/agent_level"])
	"invalid_agent_level" in {v.rule | some v in vs}
}

# blast_radius_level_3

test_level_3_capacity_40_requires_approval if {
	v := _one(_at(3, {"capacity_change_pct": 40}), "blast_radius_level_3")
	v == {
		"layer": "blast_radius",
		"rule": "blast_radius_level_3",
		"message": "capacity change 40% > ±30% per action at level 3 (autonomous): needs a human approval (within ±50% at level 2)",
		"verdict": "require_approval",
	}
}

test_level_3_scale_down_compares_absolute_value if {
	v := _one(_at(3, {"capacity_change_pct": -40}), "blast_radius_level_3")
	v.message == "capacity change -40% > ±30% per action at level 3 (autonomous): needs a human approval (within ±50% at level 2)"
}

test_level_3_two_tenants_requires_approval if {
	v := _one(_at(3, {"tenants": 2}), "blast_radius_level_3")
	v.message == "2 tenants affected > 1 per action at level 3 (autonomous): needs a human approval (within 3 at level 2)"
}

test_level_3_three_services_requires_approval if {
	v := _one(_at(3, {"services": 3}), "blast_radius_level_3")
	v.message == "3 services affected > 2 per action at level 3 (autonomous): needs a human approval (within 5 at level 2)"
}

test_level_3_each_dimension_reported if {
	vs := testing.of_rule(_violations(_at(3, {"tenants": 2, "services": 3, "capacity_change_pct": 31})), "blast_radius_level_3")
	count(vs) == 3
}

test_level_3_limits_do_not_apply_at_level_2 if {
	not "blast_radius_level_3" in _rules(_at(2, {"tenants": 2, "services": 3, "capacity_change_pct": 40}))
}

test_level_3_not_reported_beyond_level_2 if {
	rules := _rules(_at(3, {"capacity_change_pct": 60}))
	"blast_radius_level_2" in rules
	not "blast_radius_level_3" in rules
}

test_level_3_limits_are_data if {
	"blast_radius_level_3" in _rules({}) with data.autonomy.blast_radius["3"].max_capacity_change_pct as 5
}

# blast_radius_level_2

test_level_3_capacity_60_denies if {
	v := _one(_at(3, {"capacity_change_pct": 60}), "blast_radius_level_2")
	v == {
		"layer": "blast_radius",
		"rule": "blast_radius_level_2",
		"message": "capacity change 60% > ±50% per action at level 2 (supervised): too wide even with approval",
		"verdict": "deny",
	}
}

test_level_2_four_tenants_denies if {
	v := _one(_at(2, {"tenants": 4}), "blast_radius_level_2")
	v.message == "4 tenants affected > 3 per action at level 2 (supervised): too wide even with approval"
	v.verdict == "deny"
}

test_level_2_six_services_denies if {
	v := _one(_at(2, {"services": 6}), "blast_radius_level_2")
	v.message == "6 services affected > 5 per action at level 2 (supervised): too wide even with approval"
}

test_level_2_scale_down_beyond_limit_denies if {
	v := _one(_at(2, {"capacity_change_pct": -50.5}), "blast_radius_level_2")
	v.message == "capacity change -50.5% > ±50% per action at level 2 (supervised): too wide even with approval"
}

test_level_2_at_its_limits_has_only_supervision if {
	_rules(_at(2, {"tenants": 3, "services": 5, "capacity_change_pct": 50})) == {"level_2_supervised"}
}

test_level_2_limits_apply_at_level_1 if {
	"blast_radius_level_2" in _rules(_at(1, {"tenants": 4}))
}

# invalid_blast_radius, blast_radius_limits_missing

test_missing_blast_radius_field_denies if {
	vs := autonomy.violations with input as json.remove(testing.example_input, ["proposal/blast_radius/services"])
	{[v.rule, v.verdict] | some v in vs} == {["invalid_blast_radius", "deny"]}
}

test_non_numeric_blast_radius_denies if {
	v := _one(_at(3, {"tenants": "one"}), "invalid_blast_radius")
	v.message == "blast_radius.tenants is missing or not a number: the reach of the action is unknown"
}

test_missing_limits_deny if {
	v := _one({}, "blast_radius_limits_missing") with data.autonomy.blast_radius["3"] as {"max_tenants": 1, "max_services": 2}
	v.message == "the policy data has no level-3 blast-radius limit max_capacity_change_pct: nothing is within an unknown limit"
}

test_missing_limit_table_denies if {
	vs := autonomy.violations with input as testing.example_input with data.autonomy.blast_radius as {}
	count(testing.of_rule(vs, "blast_radius_limits_missing")) == 6
}
