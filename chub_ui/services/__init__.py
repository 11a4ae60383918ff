"""Every rule of the product: who may do what, invitations, mail, imports."""
