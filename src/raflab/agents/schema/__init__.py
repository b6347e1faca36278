"""agents/schema"""
