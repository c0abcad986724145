"""refit.ops"""
