# Number formatting for violation messages.
#
# The same message must come out of `opa test` (Go) and of the Wasm SDK, whose `sprintf` is
# sprintf-js: the two disagree on `%v` and on `%f` given a whole number (Go prints "%!f(int=4)").
# So numbers are split into whole parts here and only ever printed with `%d`, which both agree on.
package governor.lib.format

# num(x) is x with at most two decimals and no trailing zeros: "12", "-60", "33.3", "2.25".
num(x) := concat("", [_sign(x, hundredths), _digits(floor(hundredths / 100), hundredths % 100)]) if {
	hundredths := round(abs(x) * 100)
}

# one_decimal(x) is x rounded to one decimal, always showing it: "4.0", "3.3".
one_decimal(x) := concat("", [_sign(x, tenths), sprintf("%d.%d", [floor(tenths / 10), tenths % 10])]) if {
	tenths := round(abs(x) * 10)
}

# A value that rounds to zero prints without a sign: "-0" would read as a change.
_sign(x, rounded) := "-" if {
	x < 0
	rounded > 0
} else := ""

_digits(whole, 0) := sprintf("%d", [whole])

_digits(whole, frac) := sprintf("%d.%d", [whole, floor(frac / 10)]) if {
	frac > 0
	frac % 10 == 0
}

_digits(whole, frac) := sprintf("%d.%02d", [whole, frac]) if frac % 10 != 0

# usd(x) is an amount of US dollars with thousands separators and cents only when there are any:
# "$20,000", "-$1,200", "$1,234.50".
usd(x) := concat("", [_sign(x, cents), "$", _grouped(floor(cents / 100)), _cents(cents % 100)]) if {
	cents := round(abs(x) * 100)
}

# Groups of three digits from the right; the first group holds what is left (1 to 3 digits).
_grouped(whole) := concat(",", [substring(digits, start, size) |
	some i in numbers.range(0, groups - 1)
	start := _group_start(i, lead)
	size := _group_size(i, lead)
]) if {
	digits := sprintf("%d", [whole])
	groups := ceil(count(digits) / 3)
	lead := count(digits) - (3 * (groups - 1))
}

_group_start(0, _) := 0

_group_start(i, lead) := lead + (3 * (i - 1)) if i > 0

_group_size(0, lead) := lead

_group_size(i, _) := 3 if i > 0

_cents(0) := ""

_cents(c) := sprintf(".%02d", [c]) if c != 0
