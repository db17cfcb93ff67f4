package governor.lib.format_test

import data.governor.lib.format

test_num_whole if format.num(12) == "12"

test_num_whole_float if format.num(12.0) == "12"

test_num_negative if format.num(-60) == "-60"

test_num_one_decimal if format.num(33.3) == "33.3"

test_num_two_decimals if format.num(2.25) == "2.25"

test_num_rounds_to_two_decimals if format.num(10 / 3) == "3.33"

test_num_small_fraction if format.num(0.05) == "0.05"

test_num_negative_rounding_to_zero_has_no_sign if format.num(-0.001) == "0"

test_one_decimal_whole if format.one_decimal(4) == "4.0"

test_one_decimal_fraction if format.one_decimal(10 / 3) == "3.3"

test_one_decimal_negative if format.one_decimal(-1.25) == "-1.3"
