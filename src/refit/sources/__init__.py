"""refit.sources"""
