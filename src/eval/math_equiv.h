// MATH-500 answer equality: Hendrycks et al.'s strip_string (the MATH paper's normaliser, which
// lm-eval's hendrycks_math and simple-evals' predecessors use) on both sides, then a numeric check
// for what still differs only in form. Equivalent forms this accepts (tested):
//   \frac12 = \frac{1}{2} = \dfrac{1}{2} = 1/2 = 0.5;  "x = 3" = 3 (left side of <= 2 chars);
//   10\text{ cm} = 10\text{cm} = 10 (units written with \text or \mbox after a number);
//   90^\circ = 90;  50\% = 50;  \left( 3, \frac{\pi}{2} \right) = (3,\frac{\pi}{2});  1,000 = 1000.
// No symbolic algebra (lm-eval's sympy check, simple-evals' LLM judge): `2x+2` and `2(x+1)` differ.
#pragma once
#include <string>

namespace mixq::eval {

std::string math_strip_string(const std::string& s);  // the hendrycks normaliser
bool math_equal(const std::string& predicted, const std::string& gold);

}  // namespace mixq::eval
