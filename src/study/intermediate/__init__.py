"""intermediate"""
