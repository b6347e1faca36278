"""raf/experiments"""
