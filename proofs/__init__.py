"""Push-button proofs: obligations discovered from model/, discharged on z3 (and cvc5)."""
