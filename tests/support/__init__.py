"""Shared test code: test webs served on loopback, built apart from the code under test."""
