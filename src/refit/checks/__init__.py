"""refit.checks"""
