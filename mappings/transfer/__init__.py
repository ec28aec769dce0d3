"""Transfer credit: a learner's transcript evaluated course by course for a receiving institution.

For each result the question is "which of our courses does this count as, for how many of our
credits, with which of our grades?". Credit is granted automatically only through an approved
articulation of the receiving institution (registry.catalogue.articulations) valid on the day the
course was completed, whose source courses are all on the transcript; everything else becomes
ranked suggestions from the receiving catalogue, left "pending" for a person to decide. Failed,
withdrawn and unfinished results never earn credit. A decision saved on a pending result becomes
an approved articulation, so the next learner with the same course is answered automatically.
"""
