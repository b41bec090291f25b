"""Figures and images written into run folders."""
