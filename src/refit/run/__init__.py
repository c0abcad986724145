"""refit.run"""
