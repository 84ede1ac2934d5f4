"""National codes: check characters that accept real data (GB 32100, GB 11643), districts, industries, 文号."""

from finserv.core import codes

import pytest


@pytest.mark.parametrize("code", ["91110000600037341L", "91310115MA1K3ABC1" + codes.uscc_check_char("91310115MA1K3ABC1")])
def test_valid_credit_codes(code):
    assert codes.is_valid_uscc(code)
    assert codes.is_valid_uscc(code.lower())


@pytest.mark.parametrize("letter", "YAGJNQ")
def test_credit_codes_from_non_market_registries_pass(letter):
    first17 = f"{letter}1310000MA1K3ABC1"
    assert codes.is_valid_uscc(first17 + codes.uscc_check_char(first17))


@pytest.mark.parametrize("code", ["91110000600037341M", "9111000060003734", "91110000600037341I", ""])
def test_invalid_credit_codes(code):
    assert not codes.is_valid_uscc(code)


def test_id_number_standard_example_and_real_prefixes():
    assert codes.is_valid_id_number("11010519491231002X")
    assert codes.is_valid_id_number("11010519491231002x")
    for first17 in ("81000019900101123", "83000019851231456", "93310019800101001", "31010819800101001"):
        assert codes.is_valid_id_number(first17 + codes.id_check_char(first17))


@pytest.mark.parametrize("number", ["110105194912310021", "11010519491331002X", "1101051949123100", "11010521991231002X"])
def test_invalid_id_numbers(number):
    assert not codes.is_valid_id_number(number)


def test_districts_and_historical_codes():
    assert len(codes.SHANGHAI_DISTRICTS) == 16
    assert codes.current_district("310115") == "310115"
    assert codes.current_district("310108") == "310106"  # 闸北区 → 静安区
    assert codes.current_district("110101") is None


def test_industry_sections_of_divisions():
    assert codes.industry_section("66") == "J"
    assert codes.industry_section("6621") == "J"
    assert codes.industry_section("97") == "T"
    assert codes.industry_section("99") is None
    assert codes.industry_section("x1") is None


def test_document_numbers():
    assert codes.is_valid_doc_number("沪金规〔2024〕3号")
    assert codes.normalize_doc_number("沪金规[2024]3号") == "沪金规〔2024〕3号"
    assert codes.normalize_doc_number("沪金规（2024）3号") == "沪金规〔2024〕3号"
    assert not codes.is_valid_doc_number("2024年第3号")
