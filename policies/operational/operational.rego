# Operational: when changes may happen at all. For now the change freeze, a hard block at every
# autonomy level (DESIGN §4); windows and concurrent-action limits belong here as they arrive.
package governor.operational

# Fail closed: a freeze state that is not literally false is treated as a freeze.
violations contains _violation("change_freeze", msg) if {
	input.context.change_freeze == true
	msg := sprintf("a change freeze is in force: %s of %s is blocked until the freeze is lifted", [_action, _target])
}

violations contains _violation("change_freeze", msg) if {
	not _freeze_known
	msg := "the change-freeze state is unknown (context.change_freeze is not true or false): treated as a freeze"
}

# A helper rule, not `not is_boolean(...)` inline: OPA leaves that negation undefined when the field
# is absent (observed in 1.22), so an absent freeze state would slip through.
_freeze_known if is_boolean(input.context.change_freeze)

_action := object.get(input, ["proposal", "action"], "the action")

_target := object.get(input, ["proposal", "target", "name"], "its target")

_violation(rule, msg) := {"layer": "operational", "rule": rule, "message": msg, "verdict": "deny"}
