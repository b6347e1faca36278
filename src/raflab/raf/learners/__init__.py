"""raf/learners"""
