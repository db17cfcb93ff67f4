# Operational: when and how often changes may happen (DESIGN §4, layer 3). Rules, with the verdict
# each imposes on its own:
#   change_freeze                    deny              a freeze is in force (or its state is unknown)
#   change_freeze_override           require_approval  a freeze in force, overridden by a named human with a reason
#   invalid_in_flight_actions        deny              context.in_flight_actions is not a count
#   concurrent_actions_limit_missing deny              the tier has no concurrency limit in the data
#   concurrent_actions               require_approval  the tenant already has its limit of actions in flight
#   invalid_last_action              deny              a seconds_since_last_action entry is not a number
#   action_cooldown                  require_approval  the same non-scaling action on the same target too soon
#
# Freeze windows (time zones, recurrence) are evaluated in TypeScript, because the Wasm runtime has
# no reliable time-zone built-ins: src/governance/freeze-windows.ts turns the tenant's and the
# global windows into context.active_freezes ([{name, until, scope}]) and context.change_freeze.
# Scaling cooldowns are hard limits and live in governor.safety; the cooldowns here are for the
# other actions and are data.
package governor.operational

import data.governor.lib.format

_action := object.get(input, ["proposal", "action"], "the action")

_target := object.get(input, ["proposal", "target", "name"], "its target")

_tenant := object.get(input, ["proposal", "tenant"], "the tenant")

_tier := object.get(input, ["context", "tenant", "tier"], "unknown")

# Change freeze. Fail closed: a flag that is not literally true or false, or a list of active
# freezes that is not a list of objects, is treated as a freeze nobody can override, because an
# override of a freeze nobody can name is not an informed decision. The two facts must agree: a
# named active freeze is a freeze even if the flag says false.
violations contains _violation("change_freeze", "deny", msg) if {
	not _freeze_known
	msg := "the change-freeze state is unknown (context.change_freeze is not true or false, or context.active_freezes is not a list of freezes): treated as a freeze"
}

_freeze_known if {
	is_boolean(input.context.change_freeze)
	_active_listed
}

_active := object.get(input, ["context", "active_freezes"], [])

_active_listed if {
	is_array(_active)
	every freeze in _active {
		is_object(freeze)
	}
}

# Each freeze in force, as an operator reads it. The flag alone stands for an unnamed freeze.
_freezes contains sprintf("%schange freeze '%s' (until %s)", [_scope(f), _name(f), _until(f)]) if {
	_active_listed
	some f in _active
}

_freezes contains "a change freeze" if {
	input.context.change_freeze == true
	_active_listed
	count(_active) == 0
}

_name(f) := object.get(f, "name", "unnamed")

_until(f) := object.get(f, "until", "further notice")

_scope(f) := "global " if {
	f.scope == "global"
} else := ""

# The override is a human's: the gateway fills context.freeze_override only from an authenticated
# person (Slack, CLI), never from an agent's proposal, and records it. Even then it buys no more
# than a human approval of this one action, and every other layer, safety above all, still applies.
_override := input.context.freeze_override

_override_valid if {
	_filled(_override.by)
	_filled(_override.reason)
}

_filled(s) if {
	is_string(s)
	trim_space(s) != ""
}

_override_note := "; the override given was refused: it needs who overrides it (by) and a non-empty reason" if {
	_override != null
	not _override_valid
} else := "; only a human override with a reason can let it through"

violations contains _violation("change_freeze", "deny", msg) if {
	some freeze in _freezes
	not _override_valid
	msg := sprintf("%s is in force: %s of %s is blocked%s", [freeze, _action, _target, _override_note])
}

violations contains _violation("change_freeze_override", "require_approval", msg) if {
	some freeze in _freezes
	_override_valid
	msg := sprintf(
		"%s is overridden by %s (reason: %s): %s of %s still needs a human approval, and every safety limit still applies",
		[freeze, trim_space(_override.by), trim_space(_override.reason), _action, _target],
	)
}

# Concurrent actions. context.in_flight_actions counts the tenant's granted actions that have not
# finished yet, not counting this proposal. Many changes at once to one tenant compound their
# risk and blur which one helped, so beyond the tier's limit an agent asks instead of acting. Not a
# deny: a human who knows the changes apart may let one more through.
_in_flight := input.context.in_flight_actions

violations contains _violation("invalid_in_flight_actions", "deny", msg) if {
	not _in_flight_known
	msg := "context.in_flight_actions is missing or not a count of actions: the concurrency limit cannot be checked"
}

_in_flight_known if {
	is_number(_in_flight)
	_in_flight >= 0
}

_concurrency_limit := data.operational.max_in_flight_actions[_tier]

violations contains _violation("concurrent_actions_limit_missing", "deny", msg) if {
	not _concurrency_limit_known
	msg := sprintf("the policy data has no concurrent-action limit for the %s tier: nothing is within an unknown limit", [_tier])
}

_concurrency_limit_known if is_number(_concurrency_limit)

violations contains _violation("concurrent_actions", "require_approval", msg) if {
	_in_flight_known
	_in_flight >= _concurrency_limit
	msg := sprintf(
		"%s already has %s action(s) in flight >= %s concurrent actions for the %s tier: one more needs a human approval",
		[_tenant, format.num(_in_flight), format.num(_concurrency_limit), _tier],
	)
}

# Cooldowns for the actions other than scaling. context.seconds_since_last_action maps an action to
# the seconds since it last succeeded on the same target (null or absent: never). The same action
# again so soon (a second rollback within half an hour) means the first did not settle things, or
# that something is flapping: a human looks before it happens again.
_since(action) := input.context.seconds_since_last_action[action]

violations contains _violation("invalid_last_action", "deny", msg) if {
	since := input.context.seconds_since_last_action
	not is_object(since)
	not is_null(since)
	msg := "context.seconds_since_last_action is not an object of seconds per action: the cooldowns cannot be checked"
}

violations contains _violation("invalid_last_action", "deny", msg) if {
	some action, since in object.get(input, ["context", "seconds_since_last_action"], {})
	not is_number(since)
	not is_null(since)
	msg := sprintf("context.seconds_since_last_action.%s is not a number of seconds or null: the cooldown cannot be checked", [action])
}

violations contains _violation("action_cooldown", "require_approval", msg) if {
	cooldown := data.operational.action_cooldown_s[_action]
	since := _since(_action)
	is_number(since)
	since < cooldown
	msg := sprintf(
		"the last %s of %s was %s ago < %s cooldown for the same target: repeating it so soon needs a human approval",
		[_action, _target, _duration(since), _duration(cooldown)],
	)
}

_duration(s) := sprintf("%ss", [format.num(s)]) if {
	s < 120
} else := sprintf("%s min", [format.num(s / 60)])

_violation(rule, verdict, msg) := {"layer": "operational", "rule": rule, "message": msg, "verdict": verdict}
