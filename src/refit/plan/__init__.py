"""refit.plan"""
