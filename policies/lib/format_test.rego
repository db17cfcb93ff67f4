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

test_usd_small if format.usd(300) == "$300"

test_usd_thousands if format.usd(20000) == "$20,000"

test_usd_millions if format.usd(1234567) == "$1,234,567"

test_usd_exact_group if format.usd(100000) == "$100,000"

test_usd_cents if format.usd(1234.5) == "$1,234.50"

test_usd_one_cent if format.usd(0.01) == "$0.01"

test_usd_negative if format.usd(-4800) == "-$4,800"

test_usd_zero if format.usd(0) == "$0"
