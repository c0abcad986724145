"""refit.terraform"""
