import pytest

from portal.masterdata.vin import check_digit, is_valid_vin, vin_error, with_check_digit


@pytest.mark.parametrize(
    "vin",
    [
        "1M8GDM9AXKP042788",  # the textbook example (check digit X)
        "11111111111111111",  # all ones: check digit 1
        "LSVAU218XN2183294",  # a Chinese-market (WMI LSV) VIN
    ],
)
def test_known_valid_vins(vin):
    assert vin_error(vin) is None
    assert is_valid_vin(vin)


def test_wrong_check_digit_is_named():
    assert vin_error("1M8GDM9A1KP042788") == (
        "its check digit (position 9) is 1 where X is expected"
    )


@pytest.mark.parametrize(
    ("vin", "problem"),
    [
        ("1M8GDM9AXKP04278", "must be 17 characters"),
        ("1M8GDM9AXKP0427888", "must be 17 characters"),
        ("1M8GDM9AXKPO42788", "capital letters other than I, O and Q"),
        ("1m8gdm9axkp042788", "capital letters other than I, O and Q"),
    ],
)
def test_malformed_vins_are_refused(vin, problem):
    assert problem in vin_error(vin)


def test_with_check_digit_makes_a_valid_vin():
    vin = with_check_digit("LHGCM82633A004352")
    assert is_valid_vin(vin)
    assert vin[8] == check_digit(vin)
