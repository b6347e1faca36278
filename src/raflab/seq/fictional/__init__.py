"""seq/fictional"""
