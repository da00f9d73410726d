"""Mentoring: who may mentor whom, how well they fit, cohorts, and what follows a match.

- ``rules``: the hard rules (who may never mentor whom) and the options that narrow them;
- ``fit``: how well a mentor's expertise covers a mentee's goals, and why;
- ``mentors``: mentors for one employee (standard, reverse, group);
- ``cohort``: one global assignment of a cohort's mentees to mentors;
- ``expertise_map``: where knowledge is thin, and mentoring supply against demand.
"""
