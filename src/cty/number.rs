//! Arbitrary-precision cty numbers.
//!
//! Terraform's numbers are 512-bit big floats; on the wire they travel as
//! msgpack ints, float64s, or decimal strings. A float64 is kept as its
//! *exact* decimal expansion so that it is sent back as the same float64:
//! rounding 0.1f64 to "0.1" would hand Terraform a different number and
//! an "inconsistent result" error.

use std::fmt;
use std::str::FromStr;

use bigdecimal::num_bigint::BigInt;
use bigdecimal::{BigDecimal, ToPrimitive};

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(BigDecimal);

/// The most decimal places (or trailing zeros) a number may carry: far
/// beyond a float64 or cty's 512-bit mantissa, far below a stall.
const MAX_DIGITS: u64 = 4096;

/// How a number is best written in msgpack, mirroring go-cty's encoder.
pub(crate) enum WireNumber {
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
}

impl Number {
    pub fn from_i64(v: i64) -> Self {
        Number(BigDecimal::from(v))
    }

    pub fn from_u64(v: u64) -> Self {
        Number(BigDecimal::from(v))
    }

    /// Exact conversion; `None` for NaN and infinities, which cty numbers
    /// cannot hold as known values in our provider.
    pub fn from_f64(v: f64) -> Option<Self> {
        exact_decimal(v).map(Number)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() || text.len() > 4096 {
            return None;
        }
        let number = BigDecimal::from_str(text).ok()?.normalized();
        // `1e10000000` is 25 characters, but written out (as msgpack text
        // and every comparison do) it is ten million digits: refused, like
        // anything whose digits would outgrow the text limit.
        let (_, scale) = number.as_bigint_and_exponent();
        (scale.unsigned_abs() <= MAX_DIGITS).then_some(Number(number))
    }

    pub fn to_i64(&self) -> Option<i64> {
        if self.is_integer() {
            self.0.to_i64()
        } else {
            None
        }
    }

    pub fn to_f64(&self) -> f64 {
        self.0.to_f64().unwrap_or(f64::NAN)
    }

    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }

    pub(crate) fn to_wire(&self) -> WireNumber {
        if self.is_integer() {
            if let Some(i) = self.0.to_i64() {
                return if i >= 0 {
                    WireNumber::UInt(i as u64)
                } else {
                    WireNumber::Int(i)
                };
            }
            if let Some(u) = self.0.to_u64() {
                return WireNumber::UInt(u);
            }
        }
        if let Some(f) = self.0.to_f64() {
            if f.is_finite() && exact_decimal(f).as_ref() == Some(&self.0) {
                return WireNumber::Float(f);
            }
        }
        WireNumber::Text(self.to_string())
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let normalized = self.0.normalized();
        let (_, scale) = normalized.as_bigint_and_exponent();
        if scale < 0 {
            // An integer with trailing zeros: print every digit, never "1E+3".
            let int = normalized.with_scale(0);
            write!(f, "{}", int.as_bigint_and_exponent().0)
        } else {
            write!(f, "{}", normalized.to_plain_string())
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// The exact value of a finite f64 as a decimal: mantissa × 2^exp, and
/// 2^-k = 5^k / 10^k, so every binary fraction has a finite decimal form.
fn exact_decimal(v: f64) -> Option<BigDecimal> {
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        return Some(BigDecimal::from(0));
    }
    let bits = v.to_bits();
    let negative = bits >> 63 == 1;
    let exponent_bits = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exponent) = if exponent_bits == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), exponent_bits - 1075)
    };
    let mut digits = BigInt::from(mantissa);
    let decimal = if exponent >= 0 {
        digits <<= exponent as usize;
        BigDecimal::new(digits, 0)
    } else {
        let k = (-exponent) as u32;
        digits *= BigInt::from(5).pow(k);
        BigDecimal::new(digits, k as i64)
    };
    let decimal = if negative { -decimal } else { decimal };
    Some(decimal.normalized())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_exact() {
        let n = Number::from_f64(0.1).unwrap();
        assert_eq!(
            n.to_string(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert!(matches!(n.to_wire(), WireNumber::Float(f) if f == 0.1));
        assert!(
            matches!(Number::from_f64(0.5).unwrap().to_wire(), WireNumber::Float(f) if f == 0.5)
        );
    }

    #[test]
    fn decimal_text_that_is_not_a_float_stays_text() {
        let n = Number::parse("0.1").unwrap();
        assert!(matches!(n.to_wire(), WireNumber::Text(ref s) if s == "0.1"));
        let big = Number::parse("123456789012345678901234567890").unwrap();
        assert!(
            matches!(big.to_wire(), WireNumber::Text(ref s) if s == "123456789012345678901234567890")
        );
    }

    #[test]
    fn integers_pick_the_compact_form() {
        assert!(matches!(
            Number::from_i64(-5).to_wire(),
            WireNumber::Int(-5)
        ));
        assert!(matches!(Number::from_i64(5).to_wire(), WireNumber::UInt(5)));
        assert!(matches!(
            Number::from_u64(u64::MAX).to_wire(),
            WireNumber::UInt(u64::MAX)
        ));
        assert_eq!(Number::parse("1e3").unwrap().to_string(), "1000");
        assert_eq!(Number::parse("1e3").unwrap(), Number::from_i64(1000));
    }

    #[test]
    fn numbers_that_would_expand_past_the_limit_are_refused_at_once() {
        let started = std::time::Instant::now();
        for huge in ["1e10000000", "-1e10000000", "1e-10000000", "9.9E+5000"] {
            assert!(Number::parse(huge).is_none(), "{huge}");
        }
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        assert!(Number::parse("1e300").is_some());
        assert!(Number::parse("1.5e-4000").is_some());
    }
}
