throw new Error('the script throws while it is evaluated');
