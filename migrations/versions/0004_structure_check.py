"""images: the structure check's score and warning

Revision ID: 0004
Revises: 0003

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('structure_score', sa.Float(), nullable=True))
        # Images stored before the check existed carry no warning.
        batch_op.add_column(sa.Column('structure_warning', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_column('structure_warning')
        batch_op.drop_column('structure_score')
